// First run: name the agent and its voice, import documents, set the rules. Shown
// until the creator finishes (or when knowledge already exists, never).
import { call, commands, describe, type SetupStatus } from "../api";
import { $, button, el, say } from "../dom";
import { importPanel, summary } from "./knowledge";
import { rulesForm } from "./rules";

export async function firstRun(status: SetupStatus, done: () => void, imported: () => void): Promise<void> {
  const root = $("firstrun");
  document.body.classList.add("setup");
  const steps = el("ol", "steps");
  const body = el("div", "step");
  root.replaceChildren(el("h2", "", "Welcome to Fanline"), steps, body);
  const names = ["Your agent", "Your documents", "Your rules"];
  const mark = (i: number) => steps.replaceChildren(...names.map((n, k) => el("li", k === i ? "active" : k < i ? "done" : "", n)));

  const profile = () => {
    mark(0);
    const name = el("input");
    name.id = "setup-name";
    name.value = status.creator === "the creator" ? "" : status.creator;
    name.placeholder = "The name your fans know you by";
    const persona = el("textarea");
    persona.id = "setup-persona";
    persona.value = status.persona;
    persona.placeholder = "How you write (optional): warm, brief, first person, no jargon…";
    const msg = el("p", "muted");
    const next = button("Next", async () => {
      try {
        status = await call(commands.setupProfile(name.value, persona.value));
        documents();
      } catch (e) {
        say(msg, describe(e), false);
      }
    });
    next.id = "setup-next";
    body.replaceChildren(
      el("p", "", "Fanline answers your fans from your own documents, in your voice, and brings you only what needs you."),
      el("label", "", "Your name"), name, el("label", "", "Your voice"), persona, next, msg,
    );
    name.focus();
  };

  const documents = () => {
    mark(1);
    const result = el("p", "muted", "Import the documents fans' answers should come from: guides, FAQs, posts. You can add more later.");
    const next = button("Next", rules);
    next.id = "setup-next";
    body.replaceChildren(result, importPanel((s) => {
      say(result, summary(s), s.failed === 0);
      imported();
    }), next);
  };

  const rules = async () => {
    mark(2);
    const msg = el("p", "muted");
    try {
      const f = rulesForm(await call(commands.rules()));
      const finish = button("Finish", async () => {
        try {
          await call(commands.setRules(f.read()));
          await call(commands.finishSetup());
          document.body.classList.remove("setup");
          root.replaceChildren();
          done();
        } catch (e) {
          say(msg, describe(e), false);
        }
      });
      finish.id = "setup-finish";
      body.replaceChildren(el("p", "", "How many questions you take, from whom, and when. Everything can be changed later under Rules."), f.form, finish, msg);
    } catch (e) {
      say(msg, describe(e), false);
      body.replaceChildren(msg);
    }
  };

  profile();
}
