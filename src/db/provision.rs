//! A PostgreSQL URL whose database does not exist yet (a new county, or the
//! README's example tried as written): create it when the role may, else
//! stop at once with the `createdb` command to run. Without this check the
//! pool would retry for 30 s and then fail with libpq's English message.

use super::{with_connect_timeout, Backend};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

/// What happened to the database the URL names.
#[derive(Debug, PartialEq, Eq)]
pub enum Provisioned {
    /// It was there (or the URL is SQLite, whose file is made on first open).
    Existing,
    /// It did not exist and was created.
    Created(String),
}

/// The parts of `postgres://user@host:port/db?params` the messages need.
#[derive(Debug, PartialEq, Eq)]
pub struct PgTarget<'a> {
    pub user: Option<&'a str>,
    pub hosts: &'a str,
    pub database: &'a str,
    pub query: &'a str,
    scheme: &'a str,
    authority: &'a str,
}

impl<'a> PgTarget<'a> {
    pub fn parse(url: &'a str) -> Option<PgTarget<'a>> {
        let (scheme, rest) = url.split_once("://")?;
        let (authority, path) = rest.split_once('/')?;
        let (database, query) = path.split_once('?').unwrap_or((path, ""));
        let user = authority
            .rsplit_once('@')
            .map(|(u, _)| u.split_once(':').map_or(u, |(name, _)| name));
        let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        Some(PgTarget {
            user,
            hosts,
            database,
            query,
            scheme,
            authority,
        })
    }

    /// The same server and role, on the `postgres` maintenance database.
    fn maintenance_url(&self) -> String {
        let q = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        format!("{}://{}/postgres{q}", self.scheme, self.authority)
    }

    /// The command an administrator runs to create the database.
    pub fn createdb_command(&self) -> String {
        let mut cmd = String::from("createdb");
        // One host[:port] is what createdb takes; a list names a cluster.
        let first = self.hosts.split(',').next().unwrap_or("");
        let (host, port) = first.rsplit_once(':').unwrap_or((first, ""));
        if !host.is_empty() {
            cmd.push_str(&format!(" -h {host}"));
        }
        if !port.is_empty() {
            cmd.push_str(&format!(" -p {port}"));
        }
        if let Some(u) = self.user.filter(|u| !u.is_empty()) {
            cmd.push_str(&format!(" -O {u}"));
        }
        cmd.push_str(&format!(" {}", self.database));
        cmd
    }
}

/// A name we create without quoting surprises: letters, digits, `_`, `-`.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Make sure the database `url` names exists; see the module comment.
/// Errors are Chinese sentences for the person starting the server.
pub fn ensure_database(url: &str) -> Result<Provisioned, String> {
    if super::backend_of(url) != Backend::Postgres {
        return Ok(Provisioned::Existing);
    }
    let first = match PgConnection::establish(&with_connect_timeout(url)) {
        Ok(_) => return Ok(Provisioned::Existing),
        Err(e) => e.to_string(),
    };
    let target = PgTarget::parse(url);
    let missing = first.contains("does not exist") && first.contains("database");
    let Some(target) = target.filter(|_| missing) else {
        return Err(format!("无法连接PostgreSQL（{url}）：{}", first.trim()));
    };
    if !plain_name(target.database) {
        return Err(format!(
            "PostgreSQL数据库“{}”不存在。请先创建：{}",
            target.database,
            target.createdb_command()
        ));
    }
    let refused = |why: String| {
        format!(
            "PostgreSQL数据库“{}”不存在，当前用户也无权创建（{}）。请由数据库管理员运行：{}，然后重新启动",
            target.database,
            why.trim(),
            target.createdb_command()
        )
    };
    let mut admin = PgConnection::establish(&with_connect_timeout(&target.maintenance_url()))
        .map_err(|e| refused(e.to_string()))?;
    match admin.batch_execute(&format!("CREATE DATABASE \"{}\"", target.database)) {
        Ok(()) => Ok(Provisioned::Created(target.database.to_string())),
        // Another process created it first: fine.
        Err(e) if e.to_string().contains("already exists") => Ok(Provisioned::Existing),
        Err(e) => Err(refused(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::PgTarget;

    #[test]
    fn the_parts_of_a_url_and_the_createdb_command() {
        let t = PgTarget::parse("postgres://guobao:secret@db.example:5433/county?sslmode=require")
            .unwrap();
        assert_eq!(t.user, Some("guobao"));
        assert_eq!(t.database, "county");
        assert_eq!(t.query, "sslmode=require");
        assert_eq!(
            t.createdb_command(),
            "createdb -h db.example -p 5433 -O guobao county"
        );
        assert_eq!(
            t.maintenance_url(),
            "postgres://guobao:secret@db.example:5433/postgres?sslmode=require"
        );
        let bare = PgTarget::parse("postgresql://localhost/guobao").unwrap();
        assert_eq!(bare.user, None);
        assert_eq!(bare.createdb_command(), "createdb -h localhost guobao");
        let many = PgTarget::parse("postgres://u@h1:5432,h2:5432/g").unwrap();
        assert_eq!(many.createdb_command(), "createdb -h h1 -p 5432 -O u g");
        assert!(PgTarget::parse("postgres://host-without-db").is_none());
        assert!(!super::plain_name("a\"; DROP"));
        assert!(super::plain_name("guobao_test-1"));
    }
}
