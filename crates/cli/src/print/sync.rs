//! `fanline sync …` and `fanline hub pair URL CODE`.

use super::{say, Out};
use fanline_core::sync::{Conflict, SyncReport, SyncStatus, Verify};

pub fn sync_status(o: &mut Out, s: &SyncStatus) {
    match &s.hub {
        None => say!(o, "not paired with a hub (fanline hub pair URL CODE)"),
        Some(hub) => {
            say!(o, "hub:       {hub} (this device: \"{}\")", s.device);
            say!(o, "to push:   {} change(s)", s.pending);
            say!(o, "pulled:    through {}", s.pulled_after);
            say!(
                o,
                "conflicts: {} to settle{}",
                s.open_conflicts,
                if s.open_conflicts > 0 { " (fanline sync conflicts)" } else { "" }
            );
        }
    }
}

pub fn sync_report(o: &mut Out, r: &SyncReport) {
    say!(
        o,
        "pushed: {} applied, {} already there, {} kept as conflicts; pulled {} record(s), now through {}",
        r.applied,
        r.duplicates,
        r.conflicts,
        r.pulled,
        r.pulled_after
    );
    if r.deferred > 0 {
        say!(o, "{} record(s) kept aside for a newer Fanline: update this device", r.deferred);
    }
    for why in &r.rejected {
        say!(o, "refused by the hub: {why}");
    }
}

pub fn sync_verify(o: &mut Out, v: &Verify) {
    if v.equal {
        say!(o, "in step with the hub: {} table(s) agree", v.hub.tables.len());
        return;
    }
    say!(o, "differs from the hub (sync, then verify again):");
    for d in &v.differ {
        say!(o, "  {d}");
    }
}

pub fn conflicts(o: &mut Out, list: &[Conflict]) {
    if list.is_empty() {
        say!(o, "no conflicts");
    }
    for c in list {
        let d = &c.data;
        let state = d.resolution.as_deref().map(|r| format!("settled: {r}")).unwrap_or_else(|| "to settle".into());
        say!(o, "{}  {} of {} {} ({state})", c.uid, d.kind, d.entity, d.entity_uid);
        if !d.question.is_empty() {
            say!(o, "  question: {}", d.question);
        }
        say!(o, "  in place: {}", d.winner);
        say!(o, "  kept:     {} (from {})", d.kept, if d.device.is_empty() { "another device" } else { &d.device });
    }
}

pub fn done(o: &mut Out, _: &serde_json::Value) {
    say!(o, "done");
}
