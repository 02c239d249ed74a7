// Each screen's setup (once) and loader (each time it is shown).
import { initAnswers, loadLibrary } from "./answers";
import { initDecisions, loadLog } from "./decisions";
import { loadDocuments } from "./knowledge";
import { initMetrics, loadMetrics } from "./metrics";
import { initModels, loadProviders } from "./models";
import { loadQueue } from "./queue";
import { initRules, loadRules } from "./rules";
import { initSimulator, loadFans } from "./simulator";
import { initWeb, loadWeb } from "./web";
import { initBackups, loadBackups } from "./backups";
import { initHub, loadHub, watchSync } from "./hub";

initSimulator();
initDecisions();
initRules();
initAnswers();
initModels();
initMetrics();
initWeb();
initBackups();
initHub();
watchSync();

const loaders: Record<string, () => Promise<void>> = {
  queue: loadQueue,
  simulator: loadFans,
  metrics: loadMetrics,
  knowledge: loadDocuments,
  log: loadLog,
  rules: loadRules,
  library: loadLibrary,
  providers: async () => {
    await Promise.all([loadWeb(), loadHub(), loadBackups(), loadProviders()]);
  },
};

export async function loadScreen(tab: string): Promise<void> {
  await loaders[tab]?.();
}
