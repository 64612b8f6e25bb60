//! The country of a client's address, from a MaxMind-format database file (GeoLite2-Country,
//! GeoIP2-Country, or any MMDB with `country.iso_code`), read with maxminddb: a rule criterion
//! (`countries = ["DE", "AT"]`) and a sign-in signal ([`crate::risk`]).

use std::net::IpAddr;
use std::path::Path;

/// An opened country database.
pub struct Geo {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for Geo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Geo({})", self.reader.metadata().database_type)
    }
}

impl Geo {
    /// Opens the database at `path`; a file that is not one is refused at start.
    pub fn open(path: &Path) -> Result<Geo, String> {
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| format!("[geo] database {}: {e}", path.display()))?;
        Ok(Geo { reader })
    }

    /// The ISO 3166-1 alpha-2 code of `ip`'s country (uppercase); `None` when the database does
    /// not know it (a private address, a network not in it).
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        let found = self.reader.lookup(ip).ok()?;
        let c: maxminddb::geoip2::Country<'_> = found.decode().ok()??;
        c.country
            .iso_code
            .or(c.registered_country.iso_code)
            .filter(|code| code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
            .map(|code| code.to_ascii_uppercase())
    }
}
