use crate::cli::{
    BenchCmd, CalibrateArgs, CanonicalCmd, Cli, Command, ConfigCmd, DecisionsCmd, DocumentsCmd, FanCmd, PolicyCmd,
    ProviderCmd, QueueCmd,
};
use crate::print;
use fanline_core::{bench, Config, Fanline, ImportEvent, NewCanonicalInput};

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

pub fn run(cli: Cli) -> fanline_core::Result<()> {
    let cfg = config(&cli)?;
    let json = cli.json;
    let agent = cli.agent.as_deref();
    if let Command::Bench(BenchCmd::Search { sizes, queries, docs }) = &cli.command {
        let opts = bench::BenchOptions { sizes: sizes.clone(), queries: *queries, import_docs: *docs };
        let report = bench::run(&cfg, &opts, &mut |m| eprintln!("{m}"))?;
        return print::out(json, &report, print::bench);
    }
    if let Command::Bench(BenchCmd::Critics { messages }) = &cli.command {
        return print::out(json, fanline_critics::bench::overhead(*messages).as_slice(), print::bench_critics);
    }
    if let Command::Bench(BenchCmd::Route { sizes, decisions, knowledge }) = &cli.command {
        let opts = fanline_core::bench_route::RouteBenchOptions {
            sizes: sizes.clone(),
            decisions: *decisions,
            knowledge: knowledge.clone().or_else(fanline_core::bench_route::default_knowledge),
        };
        let report = fanline_core::bench_route::run(&cfg, &opts, &mut |m| eprintln!("{m}"))?;
        return print::out(json, &report, print::bench_route);
    }
    if let Command::Eval(a) = &cli.command {
        let opts = fanline_core::eval::EvalOptions::new(a.dataset.parse()?, &a.path, a.per_intent, &cfg);
        let (_scratch, app) = fanline_core::eval::scratch(&cfg)?;
        let bar = print::Progress::new(json, "texts embedded");
        let report = app.eval(&opts, &mut |done, total| bar.tick(done, total))?;
        bar.finish();
        return print::out(json, &report, print::eval);
    }
    if let Command::Calibrate(CalibrateArgs { dataset: Some(dataset), path: Some(path), per_intent, .. }) = &cli.command
    {
        let opts = fanline_core::eval::EvalOptions::new(dataset.parse()?, path, *per_intent, &cfg);
        let (_scratch, app) = fanline_core::eval::scratch(&cfg)?;
        let bar = print::Progress::new(json, "texts embedded");
        let c = app.calibrate(&opts, &mut |done, total| bar.tick(done, total))?;
        bar.finish();
        return print::out(json, &c, print::calibration);
    }
    if let Command::Policy(PolicyCmd::Check { file }) = &cli.command {
        return print::out(json, &fanline_core::policy::check_policy(file)?, print::policy);
    }
    let app = Fanline::open(cfg)?;
    match &cli.command {
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
            print::out(json, &app.delete_document(agent, id_or_path)?, print::deleted_document)
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
        Command::Fan(FanCmd::List) => print::out(json, app.fans()?.as_slice(), print::fans),
        Command::Route { fan, message } => print::out(json, &app.route(agent, fan, message)?, print::route),
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
                if t.ok {
                    Ok(())
                } else {
                    std::process::exit(1)
                }
            }
            ProviderCmd::Remove { name } => {
                print::out(json, &app.provider_remove(name)?, |p| println!("removed provider {} and its key", p.name))
            }
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
            let path = app.policy_path(&app.agent(agent)?.name);
            print::out(json, &path, |p| println!("{}", p.display()))
        }
        Command::Policy(PolicyCmd::Set { file }) => {
            fanline_core::policy::check_policy(file)?;
            let text = std::fs::read_to_string(file)
                .map_err(|e| fanline_core::Error::Io { path: file.clone(), detail: e.to_string() })?;
            app.policy_save(&app.agent(agent)?.name, &text)?;
            print::out(
                json,
                &fanline_core::policy::check_policy(&app.policy_path(&app.agent(agent)?.name))?,
                print::policy,
            )
        }
        Command::Policy(PolicyCmd::Check { .. }) => unreachable!("handled above"),
        Command::Doctor => {
            let report = app.doctor()?;
            print::out(json, &report, print::doctor)?;
            if report.ok {
                Ok(())
            } else {
                std::process::exit(1)
            }
        }
        Command::Bench(_) | Command::Eval(_) => unreachable!("handled above"),
    }
}
