//! nlq-metasync integration tests: one binary, a module per store. The checks every store must
//! pass are here, once; `local` and `gcs` run them against a directory and the GCS emulator.

// Test code: a panic with its message is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gcs;
mod local;
mod sync;

use std::collections::BTreeSet;
use std::sync::Arc;

use nlq_core::{Classify, ErrorClass};
use nlq_metasync::{MetaStore, MetaSyncError, VersionId};

/// A JSON document whose end repeats its start, so a torn read cannot pass for a whole one.
fn document(writer: u32, round: u32, filler: usize) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "writer": writer,
        "round": round,
        "filler": "x".repeat(filler + round as usize),
        "end": format!("{writer}/{round}"),
    }))
    .unwrap()
}

/// The (writer, round) of a whole document; panics on anything else.
fn whole(bytes: &[u8]) -> (u32, u32) {
    let value: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_else(|err| {
        panic!(
            "a read returned {} bytes that are not JSON: {err}",
            bytes.len()
        )
    });
    let writer = value["writer"].as_u64().unwrap() as u32;
    let round = value["round"].as_u64().unwrap() as u32;
    assert_eq!(value["end"], format!("{writer}/{round}"), "a torn document");
    (writer, round)
}

async fn check_empty(store: &dyn MetaStore) {
    assert!(store.latest().await.unwrap().is_none());
    assert!(store.versions().await.unwrap().is_empty());
}

async fn check_round_trip(store: &dyn MetaStore) {
    let doc = document(1, 1, 100);
    let written = store.put(&doc).await.unwrap();
    assert!(written.prune_error.is_none(), "{:?}", written.prune_error);
    assert_eq!(written.version.size, doc.len() as u64);
    let latest = store.latest().await.unwrap().expect("a latest version");
    assert_eq!(latest.document, doc);
    assert_eq!(latest.info, written.version);
    assert_eq!(store.get(&written.version.id).await.unwrap(), latest);
    assert_eq!(store.versions().await.unwrap(), vec![written.version]);
}

/// `store` keeps 3.
async fn check_keeps_the_newest(store: &dyn MetaStore) {
    let mut ids: Vec<VersionId> = Vec::new();
    for round in 0..5 {
        let written = store.put(&document(1, round, 10)).await.unwrap();
        assert!(written.prune_error.is_none(), "{:?}", written.prune_error);
        if round == 3 {
            assert_eq!(written.pruned, vec![ids[0].clone()]);
        }
        ids.push(written.version.id);
    }
    let versions = store.versions().await.unwrap();
    let kept: Vec<VersionId> = versions.iter().map(|v| v.id.clone()).collect();
    assert_eq!(kept, vec![ids[4].clone(), ids[3].clone(), ids[2].clone()]);
    assert!(
        versions
            .windows(2)
            .all(|w| w[0].written_at >= w[1].written_at)
    );
    assert_eq!(versions[0].size, document(1, 4, 10).len() as u64);
    let old = store.get(&ids[2]).await.unwrap();
    assert_eq!(whole(&old.document), (1, 2));
    let err = store.get(&ids[0]).await.unwrap_err();
    assert!(matches!(err, MetaSyncError::NoSuchVersion { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::User);
    assert!(err.to_string().contains(&store.location()), "{err}");
}

/// Two writers (separate store values on one location, as two processes would be) and a reader.
/// Every put either wins or gets a Conflict; the reader only ever sees whole documents that
/// won; what is left is the newest of the winners.
async fn check_racing_writers(
    writers: [Arc<dyn MetaStore>; 2],
    reader: Arc<dyn MetaStore>,
    rounds: u32,
) {
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for (w, store) in writers.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            let mut lost = Vec::new();
            for round in 0..rounds {
                match store.put(&document(w as u32, round, 20_000)).await {
                    Ok(written) => won.push(((w as u32, round), written.version.id)),
                    Err(err) if err.is_conflict() => {
                        assert_eq!(err.class(), ErrorClass::Transient);
                        lost.push((w as u32, round));
                    }
                    Err(err) => panic!("writer {w}, round {round}: {err}"),
                }
            }
            (won, lost)
        }));
    }
    let reading = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = BTreeSet::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(stored) = reader.latest().await.unwrap() {
                    let key = whole(&stored.document);
                    assert_eq!(stored.info.size, stored.document.len() as u64);
                    seen.insert((key, stored.info.id));
                }
                tokio::task::yield_now().await;
            }
            (reader, seen)
        })
    };
    let mut won = Vec::new();
    let mut lost = Vec::new();
    for task in tasks {
        let (w, l) = task.await.unwrap();
        won.extend(w);
        lost.extend(l);
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (reader, seen) = reading.await.unwrap();
    eprintln!(
        "{}: {} puts won, {} lost to a conflict, the reader saw {} versions",
        reader.location(),
        won.len(),
        lost.len(),
        seen.len()
    );
    assert_eq!(won.len() + lost.len(), 2 * rounds as usize);
    assert!(!won.is_empty());
    let winners: BTreeSet<_> = won.iter().cloned().collect();
    for entry in &seen {
        assert!(
            winners.contains(entry),
            "the reader saw {entry:?}, which lost or was never written"
        );
    }
    // Each winner's id is later than the one it replaced, so the newest id is the latest.
    let mut ids: Vec<VersionId> = won.iter().map(|(_, id)| id.clone()).collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let latest = reader.latest().await.unwrap().unwrap();
    assert_eq!(latest.info.id, ids[0]);
    // Losers removed their versions; pruning kept the newest winners.
    let kept: Vec<VersionId> = reader
        .versions()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert!(!kept.is_empty());
    assert_eq!(kept, ids[..kept.len()].to_vec());
}

/// One writer of large documents, one reader polling as fast as it can.
async fn check_reader_racing_a_writer(writer: Arc<dyn MetaStore>, reader: Arc<dyn MetaStore>) {
    let rounds = 20;
    let writing = tokio::spawn(async move {
        for round in 0..rounds {
            writer.put(&document(7, round, 400_000)).await.unwrap();
        }
    });
    let mut reads = 0;
    let mut last = None;
    while !writing.is_finished() {
        if let Some(stored) = reader.latest().await.unwrap() {
            let (writer, round) = whole(&stored.document);
            assert_eq!(writer, 7);
            // The pointer only moves forward.
            assert!(
                last.is_none_or(|last| round >= last),
                "round {round} after {last:?}"
            );
            last = Some(round);
            reads += 1;
        }
        tokio::task::yield_now().await;
    }
    writing.await.unwrap();
    let stored = reader.latest().await.unwrap().unwrap();
    assert_eq!(whole(&stored.document), (7, rounds - 1));
    eprintln!("{}: {reads} whole reads while writing", reader.location());
}
