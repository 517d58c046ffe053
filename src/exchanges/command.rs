//! `tavle export`: the roster written as the system, outside a request (the school
//! owner's nightly provisioning), with its audit row in the same transaction.

use crate::audit::{Action, Resource};
use crate::policy::Purpose;

use super::{oneroster, pifu, roster};

/// The two files, for the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// PIFU-IMS 1.3 XML, for Feide.
    Pifu,
    /// OneRoster 1.2 CSV (a zip), for a learning platform.
    Oneroster,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Pifu => "PIFU-IMS",
            Format::Oneroster => "OneRoster",
        })
    }
}

impl Format {
    /// Why the file leaves Tavle: its audit row's purpose.
    pub fn purpose(self) -> Purpose {
        match self {
            Format::Pifu => Purpose::FeideProvisioning,
            Format::Oneroster => Purpose::LearningPlatform,
        }
    }

    /// Writes the roster's file to `out` (the PIFU document as it is made).
    ///
    /// # Errors
    ///
    /// Writing `out`, or a roster too large for a zip.
    pub fn write(self, roster: &roster::Roster, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
        match self {
            Format::Pifu => pifu::write(roster, out)?,
            Format::Oneroster => {
                let zip =
                    oneroster::archive(roster).ok_or_else(|| anyhow::anyhow!("the roster is too large for a zip"))?;
                out.write_all(&zip)?;
            }
        }
        Ok(())
    }
}

/// Exports the roster of the municipality `slug` as the system does (no person acting)
/// into `out` (the PIFU document as it is made), and commits its audit row once it is
/// written. Returns how many persons it names.
///
/// # Errors
///
/// An unknown municipality, no school year from today on, writing `out`, or a database
/// error.
pub async fn export(
    pool: &sqlx::PgPool,
    slug: &str,
    format: Format,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<usize> {
    let (tenant, _) =
        crate::db::import_tenant(pool, slug).await?.ok_or_else(|| anyhow::anyhow!("no municipality {slug}"))?;
    let mut tx = crate::db::begin(pool, tenant).await?;
    let today = crate::db::current_date(crate::db::Conn::new(&mut tx, tenant)).await?;
    let roster = roster::load(crate::db::Conn::new(&mut tx, tenant), today)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{slug} has no school year from today on: nothing to export"))?;
    format.write(&roster, out)?;
    out.flush()?;
    let people = roster.person_ids();
    let purpose = format.purpose();
    crate::audit::record_by_system(&mut tx, tenant, Action::Export, Resource::Roster, None, &people, purpose).await?;
    tx.commit().await?;
    Ok(people.len())
}
