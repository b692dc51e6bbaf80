//! The MetaSync document for one command: read from `--metadata` (or `NLQ_METADATA_STORE`), or
//! from `<data dir>/metadata` when `nlq-metasync run` has written one there.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use nlq_core::knowledge::Knowledge;
use nlq_metasync::store::gcs::DEFAULT_ENDPOINT;
use nlq_metasync::{
    BearerToken, GcsAuth, LoaderConfig, MetaSyncError, MetadataDocument, MetadataLoader,
    StoreOptions,
};
use nlq_pipeline::knowledge::KnowledgeBase;

/// How the GCS metadata store authenticates: a token from `NLQ_GCS_TOKEN` when one is set (it
/// is not refreshed: for tests and tokens minted elsewhere), anonymously against another
/// endpoint (an emulator), else Google's application default credentials, refreshed before
/// they expire.
pub fn gcs_auth(endpoint: &str) -> GcsAuth {
    match std::env::var("NLQ_GCS_TOKEN") {
        Ok(token) if !token.trim().is_empty() => GcsAuth::Token(BearerToken::new(token.trim())),
        _ if endpoint.trim_end_matches('/') != DEFAULT_ENDPOINT => GcsAuth::Anonymous,
        _ => GcsAuth::ApplicationDefault,
    }
}

#[derive(clap::Args)]
pub struct MetadataArgs {
    /// The metadata store nlq-metasync writes: a directory or gs://bucket/prefix
    /// [default: <data dir>/metadata, when it exists].
    #[arg(long = "metadata", global = true, env = "NLQ_METADATA_STORE")]
    location: Option<String>,
    /// The GCS JSON API, e.g. http://127.0.0.1:4443 for an emulator.
    #[arg(long, global = true, env = "NLQ_GCS_ENDPOINT", default_value = DEFAULT_ENDPOINT)]
    gcs_endpoint: String,
    /// Where taught lessons are kept (`nlq teach`, the Knowledge API): a directory or
    /// gs://bucket/prefix [default: <data dir>/knowledge].
    #[arg(long = "knowledge", global = true, env = "NLQ_KNOWLEDGE_STORE")]
    knowledge: Option<String>,
}

impl MetadataArgs {
    /// The newest good document, with its warnings printed. None when no store was named and
    /// the default one does not exist. A named store must load; the default one only adds
    /// what it knows, so its problems are warnings and the command goes on without it.
    pub fn load(
        &self,
        data_dir: &Path,
        project: &str,
        dataset: &str,
    ) -> anyhow::Result<Option<Arc<MetadataDocument>>> {
        let Some((location, named)) = self.location(data_dir) else {
            return Ok(None);
        };
        match self.read(&location, project, dataset) {
            Ok(loaded) => Ok(Some(loaded)),
            Err(err) if !named => {
                tracing::warn!("not using the metadata in {location}: {err:#}");
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    /// A loader for a long-running process (the server): it refreshes on its TTL and keeps
    /// the last good version. None when there is no store.
    pub fn loader(&self, data_dir: &Path) -> anyhow::Result<Option<Arc<MetadataLoader>>> {
        let Some((location, _)) = self.location(data_dir) else {
            return Ok(None);
        };
        let store = nlq_metasync::open(&location, &self.options())?;
        Ok(Some(Arc::new(MetadataLoader::new(
            store,
            LoaderConfig::default(),
        ))))
    }

    /// The knowledge store (`--knowledge`, else `<data dir>/knowledge`); a process reading it
    /// again after `ttl` sees what other processes taught.
    pub fn knowledge_base(
        &self,
        data_dir: &Path,
        ttl: std::time::Duration,
    ) -> anyhow::Result<Arc<KnowledgeBase>> {
        let location = self
            .knowledge
            .clone()
            .unwrap_or_else(|| format!("dir:{}", data_dir.join("knowledge").display()));
        let store = nlq_metasync::open(&location, &self.options())?;
        Ok(Arc::new(KnowledgeBase::new(store, ttl)))
    }

    /// What was taught, for one command. A default store that does not exist yet holds
    /// nothing; a store that cannot be read is an error (answers would silently lose lessons).
    pub fn knowledge(&self, data_dir: &Path) -> anyhow::Result<Arc<Knowledge>> {
        if self.knowledge.is_none() && !data_dir.join("knowledge").is_dir() {
            return Ok(Arc::new(Knowledge::default()));
        }
        let base = self.knowledge_base(data_dir, std::time::Duration::ZERO)?;
        let (_, knowledge) = crate::setup::runtime()?
            .block_on(base.current())
            .with_context(|| format!("reading the taught knowledge in {}", base.location()))?;
        Ok(knowledge)
    }

    /// The store's location and whether the user named it; None: no store.
    fn location(&self, data_dir: &Path) -> Option<(String, bool)> {
        match &self.location {
            Some(location) => Some((location.clone(), true)),
            None => {
                let dir = data_dir.join("metadata");
                dir.is_dir()
                    .then(|| (format!("dir:{}", dir.display()), false))
            }
        }
    }

    fn options(&self) -> StoreOptions {
        StoreOptions {
            gcs_endpoint: self.gcs_endpoint.clone(),
            gcs_auth: gcs_auth(&self.gcs_endpoint),
            ..StoreOptions::default()
        }
    }

    fn read(
        &self,
        location: &str,
        project: &str,
        dataset: &str,
    ) -> anyhow::Result<Arc<MetadataDocument>> {
        let store = nlq_metasync::open(location, &self.options())?;
        let loader = MetadataLoader::new(store, LoaderConfig::default());
        let snapshot = crate::setup::runtime()?
            .block_on(loader.current())
            .with_context(|| format!("reading the metadata in {location}"))?;
        for warning in &snapshot.warnings {
            tracing::warn!("metadata: {warning}");
        }
        let source = &snapshot.document.source;
        if (source.project.as_str(), source.dataset.as_str()) != (project, dataset) {
            return Err(MetaSyncError::BadDocument {
                location: location.to_owned(),
                version: snapshot.version.to_string(),
                reason: format!(
                    "it describes {}.{}, not {}.{}; point --metadata at the store nlq-metasync \
                     writes for this dataset",
                    source.project, source.dataset, project, dataset
                ),
            }
            .into());
        }
        Ok(snapshot.document)
    }
}
