use crate::cli::{
    BenchCmd, CalibrateArgs, CanonicalCmd, Cli, Command, ConfigCmd, DecisionsCmd, DocumentsCmd, FanCmd, HubCmd,
    InboxCmd, PolicyCmd, ProviderCmd, QueueCmd, SyncCmd, TokenCmd,
};
use crate::print;
use fanline_core::{Config, DocumentRef, Fanline, ImportEvent, NewCanonicalInput};
use fanline_lab::{bench, bench_route, eval};
use std::process::ExitCode;

fn config(cli: &Cli) -> fanline_core::Result<Config> {
    let mut c = match &cli.config {
        Some(f) => Config::load_from(f)?,
        None => Config::load()?,
    };
    if let Some(d) = &cli.data_dir {
        c.data_dir = d.clone();
        c.absolutize();
    }
    Ok(c)
}

/// "30d" or "30" as days.
fn parse_days(s: &str) -> fanline_core::Result<u32> {
    let t = s.trim();
    t.strip_suffix('d')
        .unwrap_or(t)
        .parse()
        .map_err(|_| fanline_core::Error::InvalidInput(format!("{s:?} is not a number of days, such as 30d")))
}

fn rule_changes(r: &crate::cli::ReplayArgs) -> fanline_core::Result<Vec<fanline_core::replay::RuleChange>> {
    let pairs = |list: &[String]| -> fanline_core::Result<Vec<(String, String)>> {
        list.iter()
            .map(|kv| {
                kv.split_once('=').map(|(k, v)| (k.trim().to_string(), v.to_string())).ok_or_else(|| {
                    fanline_core::Error::InvalidInput(format!("{kv:?}: write a rule change as KEY=VALUE"))
                })
            })
            .collect()
    };
    let mut out = vec![fanline_core::replay::RuleChange {
        label: "set A".into(),
        set: pairs(&r.set)?,
        policy: r.policy.clone(),
        policy_text: None,
    }];
    if !r.b_set.is_empty() || r.b_policy.is_some() {
        out.push(fanline_core::replay::RuleChange {
            label: "set B".into(),
            set: pairs(&r.b_set)?,
            policy: r.b_policy.clone(),
            policy_text: None,
        });
    }
    Ok(out)
}

fn parse_scopes(list: &[String]) -> fanline_core::Result<Vec<fanline_core::hub::Scope>> {
    list.iter().map(|s| s.parse()).collect()
}

/// Run the command; `Ok` carries the exit code (a failed check is not an error).
pub fn run(cli: Cli) -> fanline_core::Result<ExitCode> {
    dispatch(cli).map(|ok| if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Run the command; `Ok(false)`: it ran, and what it checked failed.
fn dispatch(cli: Cli) -> fanline_core::Result<bool> {
    let cfg = config(&cli)?;
    let json = cli.json;
    let agent = cli.agent.as_deref();
    if let Command::Bench(BenchCmd::Search { sizes, queries, docs, database }) = &cli.command {
        let opts = bench::BenchOptions {
            sizes: sizes.clone(),
            queries: *queries,
            import_docs: *docs,
            database: database.clone(),
        };
        let report = bench::run(&cfg, &opts, &mut |m| eprintln!("{m}"))?;
        return print::out(json, &report, print::bench).map(|_| true);
    }
    if let Command::Bench(BenchCmd::Critics { messages }) = &cli.command {
        return print::out(json, fanline_critics::bench::overhead(*messages).as_slice(), print::bench_critics)
            .map(|_| true);
    }
    if let Command::Bench(BenchCmd::Route { sizes, decisions, knowledge, readers }) = &cli.command {
        let opts = bench_route::RouteBenchOptions {
            sizes: sizes.clone(),
            decisions: *decisions,
            knowledge: knowledge.clone().or_else(bench_route::default_knowledge),
            readers: readers.clone(),
        };
        let report = bench_route::run(&cfg, &opts, &mut |m| eprintln!("{m}"))?;
        return print::out(json, &report, print::bench_route).map(|_| true);
    }
    if let Command::Bench(BenchCmd::Serve { concurrency, messages, canonical, rate }) = &cli.command {
        let opts = fanline_lab::bench_serve::ServeBenchOptions {
            concurrency: concurrency.clone(),
            messages: *messages,
            canonical: *canonical,
            rates: rate.clone(),
        };
        let report = fanline_lab::bench_serve::run(&cfg, &opts, &mut |m| eprintln!("{m}"))?;
        return print::out(json, &report, print::bench_serve).map(|_| true);
    }
    if let Command::Bench(BenchCmd::Pg { database, concurrency, ops }) = &cli.command {
        let opts = fanline_lab::bench_pg_ops::PgOpsOptions {
            url: database.clone(),
            concurrency: concurrency.clone(),
            ops: *ops,
        };
        let rows = fanline_lab::bench_pg_ops::run(&opts, &mut |m| eprintln!("{m}"))?;
        return print::out(json, rows.as_slice(), print::bench_pg_ops).map(|_| true);
    }
    if let Command::Bench(BenchCmd::Store { database, concurrency, messages }) = &cli.command {
        let opts = fanline_lab::bench_store::StoreBenchOptions {
            database: database.clone(),
            concurrency: concurrency.clone(),
            messages: *messages,
        };
        let rows = fanline_lab::bench_store::run(&opts, &mut |m| eprintln!("{m}"))?;
        return print::out(json, rows.as_slice(), print::bench_store).map(|_| true);
    }
    if let Command::Bench(BenchCmd::Sync { canonical, changes }) = &cli.command {
        let opts = fanline_lab::bench_sync::SyncBenchOptions { canonical: *canonical, changes: *changes };
        let rows = fanline_lab::bench_sync::run(&cfg, &opts, &mut |m| eprintln!("{m}"))?;
        return print::out(json, rows.as_slice(), print::bench_sync).map(|_| true);
    }
    if let Command::Eval(a) = &cli.command {
        if a.dataset.trim().eq_ignore_ascii_case("conversations") {
            let bar = print::Progress::new(json, "turns routed");
            let report = fanline_lab::conversations::eval(&cfg, &a.path, &mut |done, total| bar.tick(done, total))?;
            bar.finish();
            return print::out(json, &report, print::conversations).map(|_| true);
        }
        let opts = eval::EvalOptions::new(a.dataset.parse()?, &a.path, a.per_intent, &cfg);
        let (_scratch, app) = eval::scratch(&cfg)?;
        let bar = print::Progress::new(json, "texts embedded");
        let report = eval::eval(&app, &opts, &mut |done, total| bar.tick(done, total))?;
        bar.finish();
        return print::out(json, &report, print::eval).map(|_| true);
    }
    if let Command::Calibrate(CalibrateArgs { dataset: Some(dataset), path: Some(path), per_intent, .. }) = &cli.command
    {
        let opts = eval::EvalOptions::new(dataset.parse()?, path, *per_intent, &cfg);
        let (_scratch, app) = eval::scratch(&cfg)?;
        let bar = print::Progress::new(json, "texts embedded");
        let c = eval::calibrate::calibrate(&app, &opts, &mut |done, total| bar.tick(done, total))?;
        bar.finish();
        return print::out(json, &c, print::calibration).map(|_| true);
    }
    if let Command::ImportData { file } = &cli.command {
        return print::out(json, &fanline_core::export::import_data(&cfg, file)?, print::exported).map(|_| true);
    }
    if let Command::Restore { backup, force } = &cli.command {
        return print::out(json, &fanline_core::backup::restore(&cfg, backup, *force)?, print::restored).map(|_| true);
    }
    if let Command::Policy(PolicyCmd::Check { file }) = &cli.command {
        return print::out(json, &fanline_core::policy::check_policy(file)?, print::policy).map(|_| true);
    }
    let app = match Fanline::open(cfg.clone()) {
        Ok(app) => app,
        Err(e) if matches!(cli.command, Command::Doctor) => {
            let report = fanline_core::doctor_unopened(&cfg, &e);
            print::out(json, &report, print::doctor)?;
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let done = match &cli.command {
        Command::Init => print::out(json, &app.init(agent)?, print::init),
        Command::Import(a) => {
            let bar = print::ImportBar::new(json);
            let summary = app.import(agent, &a.paths, a.layer, &mut |ev: ImportEvent<'_>| bar.event(&ev))?;
            bar.finish();
            print::out(json, &summary, print::import)
        }
        Command::Search(a) => {
            print::out(json, app.search(agent, &a.query, a.layer, a.limit)?.as_slice(), print::search)
        }
        Command::Documents(DocumentsCmd::List) => print::out(json, app.documents(agent)?.as_slice(), print::documents),
        Command::Documents(DocumentsCmd::Delete { id_or_path }) => {
            let doc = match id_or_path.parse::<i64>() {
                Ok(id) => DocumentRef::Id(id),
                Err(_) => DocumentRef::Path(id_or_path.into()),
            };
            print::out(json, &app.delete_document(agent, &doc)?, print::deleted_document)
        }
        Command::Canonical(c) => match c {
            CanonicalCmd::Add { question, answer, variants, layer } => {
                let input = NewCanonicalInput {
                    question: question.clone(),
                    variants: variants.clone(),
                    answer: answer.clone(),
                    layer: *layer,
                };
                print::out(json, &app.canonical_add(agent, &input)?, print::canonical)
            }
            CanonicalCmd::List => print::out(json, app.canonical_list(agent)?.as_slice(), print::canonical_list),
            CanonicalCmd::Show { id } => print::out(json, &app.canonical_show(*id)?, print::canonical),
            CanonicalCmd::Delete { id } => print::out(json, &app.canonical_delete(*id)?, print::canonical_deleted),
            CanonicalCmd::Merge { id, into } => print::out(json, &app.canonical_merge(*into, *id)?, print::canonical),
            CanonicalCmd::AddVariant { id, text } => {
                print::out(json, &app.canonical_add_variant(*id, text)?, print::canonical)
            }
            CanonicalCmd::Search { question, layer, limit } => print::out(
                json,
                app.canonical_search(agent, question, *layer, *limit)?.as_slice(),
                print::canonical_hits,
            ),
        },
        Command::Fan(FanCmd::Add { handle, tier, layer }) => {
            print::out(json, &app.fan_add(handle, *tier, *layer)?, print::fan)
        }
        Command::Fan(FanCmd::Set { handle, tier, layer }) => {
            print::out(json, &app.fan_set(handle, *tier, *layer)?, print::fan)
        }
        Command::Backup { dir, keep } => print::out(json, &app.backup(dir, *keep)?, print::backed_up),
        Command::Export { file } => print::out(json, &app.export(file)?, print::exported),
        Command::Replay(r) => {
            let bar = print::Progress::new(json, "messages replayed");
            let report = app.replay(agent, parse_days(&r.since)?, &rule_changes(r)?, &mut |d, t| bar.tick(d, t))?;
            bar.finish();
            print::out(json, &report, print::replayed)
        }
        Command::Reembed => {
            let bar = print::Progress::new(json, "texts embedded");
            let report = app.reembed(&mut |done, total| bar.tick(done, total))?;
            bar.finish();
            print::out(json, &report, print::reembedded)
        }
        Command::Gaps { days, limit } => print::out(json, app.gaps(agent, *days, *limit)?.as_slice(), print::gaps),
        Command::Recover { after_seconds } => print::out(json, &app.recover(*after_seconds)?, print::recovered),
        Command::Fan(FanCmd::List) => print::out(json, app.fans()?.as_slice(), print::fans),
        Command::Fan(FanCmd::Invite { handle, tier, layer, expires }) => {
            let days = expires.as_deref().map(parse_days).transpose()?;
            print::out(json, &app.fan_invite(agent, handle, *tier, *layer, days)?, print::invite)
        }
        Command::Fan(FanCmd::Revoke { handle }) => print::out(json, &app.fan_revoke(agent, handle)?, print::revoked),
        Command::Serve { listen } => {
            let app = std::sync::Arc::new(app);
            return crate::serve::run(app, listen.as_deref(), json).map(|_| true);
        }
        Command::Hub(h) => match h {
            HubCmd::Site { origins } if origins.is_empty() => print::out(json, &app.hub_site(agent)?, print::site),
            HubCmd::Site { origins } => print::out(json, &app.hub_set_origins(agent, origins)?, print::site),
            HubCmd::Secret => print::out(json, &app.hub_secret(agent)?, print::secret),
            HubCmd::Pair { url: Some(url), code: Some(code), name, .. } => {
                let name = name.clone().unwrap_or_else(crate::sync::host_name);
                print::out(json, &crate::sync::block(app.sync_pair(url, code, &name))?, print::sync_status)
            }
            HubCmd::Pair { url: Some(_), code: None, .. } => {
                return Err(fanline_core::Error::InvalidInput(
                    "give the hub's address and the code `fanline hub pair` showed there".into(),
                ))
            }
            HubCmd::Pair { scopes, .. } => {
                print::out(json, &app.hub_pairing_code(&parse_scopes(scopes)?)?, print::pairing)
            }
            HubCmd::Token(TokenCmd::Create { name, scopes }) => {
                print::out(json, &app.hub_token_create(name, &parse_scopes(scopes)?)?, print::device_token)
            }
            HubCmd::Token(TokenCmd::List) => print::out(json, app.hub_devices()?.as_slice(), print::devices),
            HubCmd::Token(TokenCmd::Revoke { id }) => print::out(json, &app.hub_token_revoke(*id)?, print::device),
        },
        Command::Sync { watch: true, cmd: None } => return crate::sync::watch(&app, json).map(|_| true),
        Command::Sync { cmd: None, .. } => print::out(json, &crate::sync::block(app.sync_once())?, print::sync_report),
        Command::Sync { cmd: Some(c), .. } => match c {
            SyncCmd::Status => print::out(json, &app.sync_status()?, print::sync_status),
            SyncCmd::Verify => {
                let v = crate::sync::block(app.sync_verify())?;
                print::out(json, &v, print::sync_verify)?;
                return Ok(v.equal);
            }
            SyncCmd::Conflicts => print::out(json, app.sync_conflicts()?.as_slice(), print::conflicts),
            SyncCmd::Resolve { uid, choice } => {
                app.sync_resolve(uid, choice)?;
                print::out(json, &serde_json::json!({ "resolved": uid, "choice": choice }), print::done)
            }
        },
        Command::Route { fan: Some(fan), message: Some(message), .. } => {
            print::out(json, &app.route(agent, fan, message)?, print::route)
        }
        Command::Route { batch: Some(file), message_column, fan_column, out, .. } => {
            let columns = fanline_core::inbox::Columns {
                question: message_column.clone(),
                answer: None,
                fan: fan_column.clone(),
            };
            let bar = print::Progress::new(json, "messages routed");
            let report = app.route_batch(agent, file, &columns, &mut |d, t| bar.tick(d, t))?;
            bar.finish();
            if let Some(out) = out {
                print::batch_csv(out, &report)?;
            }
            print::out(json, &report, print::batch)
        }
        Command::Route { .. } => unreachable!("clap requires --fan and a message, or --batch"),
        Command::Inbox(InboxCmd::Import { file, question_column, answer_column, layer }) => {
            let columns = fanline_core::inbox::Columns {
                question: question_column.clone(),
                answer: answer_column.clone(),
                fan: None,
            };
            let bar = print::Progress::new(json, "questions imported");
            let report = app.import_inbox(agent, file, &columns, *layer, &mut |d, t| bar.tick(d, t))?;
            bar.finish();
            print::out(json, &report, print::inbox)
        }
        Command::Ask { fan, message } => {
            let r = app.route_streaming(agent, fan, message, &mut print::stream(json))?;
            print::out(json, &r, print::asked)
        }
        Command::Provider(p) => match p {
            ProviderCmd::Add {
                name,
                kind,
                base_url,
                model,
                priority,
                context_window,
                input_price,
                output_price,
                key_stdin,
            } => {
                let key = if *key_stdin { Some(print::read_key()?) } else { None };
                let input = fanline_core::NewProvider {
                    name: name.clone(),
                    kind: kind.clone(),
                    base_url: base_url.clone(),
                    model: model.clone(),
                    priority: *priority,
                    context_window: *context_window,
                    prices: fanline_llm::Prices { input_per_mtok: *input_price, output_per_mtok: *output_price },
                    key,
                };
                print::out(json, &app.provider_add(&input)?, print::provider)
            }
            ProviderCmd::List => print::out(json, app.providers()?.as_slice(), print::providers),
            ProviderCmd::Test { name } => {
                let t = app.provider_test(name)?;
                print::out(json, &t, print::provider_test)?;
                return Ok(t.ok);
            }
            ProviderCmd::Remove { name } => print::out(json, &app.provider_remove(name)?, print::provider_removed),
        },
        Command::Accept { id } => print::out(json, &app.accept(*id)?, print::accept),
        Command::Queue(q) => match q {
            QueueCmd::List { limit } => print::out(json, app.queue(agent, *limit)?.as_slice(), print::queue),
            QueueCmd::Answer { id, text, layer } => {
                print::out(json, &app.queue_answer(*id, text, *layer)?, print::canonical)
            }
            QueueCmd::Attach { id, canonical_id } => {
                print::out(json, &app.queue_attach(*id, *canonical_id)?, print::canonical)
            }
            QueueCmd::Groups { limit } => print::out(json, app.queue_groups(agent, *limit)?.as_slice(), print::groups),
            QueueCmd::AnswerGroup { ids, text, layer } => {
                print::out(json, &app.queue_answer_group(ids, text, *layer)?, print::canonical)
            }
            QueueCmd::TakeOut { id, undo } => {
                app.queue_keep_alone(*id, !*undo)?;
                print::out(json, app.queue_groups(agent, 50)?.as_slice(), print::groups)
            }
            QueueCmd::Split { ids } => {
                app.queue_split(ids)?;
                print::out(json, app.queue_groups(agent, 50)?.as_slice(), print::groups)
            }
            QueueCmd::Decline { id } => print::out(json, &app.queue_decline(*id)?, print::escalation),
            QueueCmd::Defer { id, hours } => print::out(json, &app.queue_defer(*id, *hours)?, print::escalation),
        },
        Command::Decisions(DecisionsCmd::List { path, fan, limit }) => {
            print::out(json, app.decisions(agent, *path, fan.as_deref(), *limit)?.as_slice(), print::decisions)
        }
        Command::Decisions(DecisionsCmd::Show { id }) => print::out(json, &app.decision(*id)?, print::decision),
        Command::Decisions(DecisionsCmd::Judge { id, verdict }) => {
            app.judge_reuse(*id, verdict == "right")?;
            print::out(json, &app.decision(*id)?, print::judged)
        }
        Command::Calibrate(_) => print::out(json, &app.calibrate_history(agent)?, print::history_calibration),
        Command::Metrics { days } => print::out(json, &app.metrics(agent, *days)?, print::metrics),
        Command::Config(c) => match c {
            ConfigCmd::Show => print::out(json, &app.rules(agent)?, print::rules),
            ConfigCmd::Get { key } => print::out(json, &app.rule_get(agent, key)?, print::value),
            ConfigCmd::Set { key, value } => print::out(json, &app.rule_set(agent, key, value)?, print::rules),
        },
        Command::Policy(PolicyCmd::Path) => {
            print::out(json, app.policy_path(&app.agent(agent)?.name).as_path(), print::path)
        }
        Command::Policy(PolicyCmd::Set { file }) => print::out(json, &app.policy_install(agent, file)?, print::policy),
        Command::Policy(PolicyCmd::Check { .. }) => unreachable!("handled above"),
        Command::Doctor => {
            let report = app.doctor()?;
            print::out(json, &report, print::doctor)?;
            return Ok(report.ok);
        }
        Command::Bench(_) | Command::Eval(_) | Command::Restore { .. } | Command::ImportData { .. } => {
            unreachable!("handled above")
        }
    };
    done.map(|_| true)
}
