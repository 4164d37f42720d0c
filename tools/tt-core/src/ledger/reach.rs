//! Reaching a ledger for a write, telling a server that could not be reached from one that answered and said
//! no: what `crate::spool` needs to keep a record aside only when retrying later can help.

use super::{Ledger, Target, schema};
use crate::error::Result;

/// A ledger reached, or why not.
pub enum Reach {
    /// Connected, the schema current (boxed: a connection is large beside a message).
    Ledger(Box<Ledger>),
    /// No server answered (see [`super::conn::unreachable`]): the error as a connection gives it, and why in
    /// one line.
    Unreachable(crate::error::Error, String),
}

/// Connect and check the schema; a server that answered and said no (a login, a permission, a schema newer
/// than this tt) is an error, as for [`Ledger::open`].
pub fn reach(target: &Target) -> Result<Reach> {
    let mut client = match target.try_connect() {
        Ok(c) => c,
        Err(n) => {
            return match n.unreachable {
                Some(why) => Ok(Reach::Unreachable(n.error, why)),
                None => Err(n.error),
            };
        }
    };
    schema::ensure(&mut client, target.name())?;
    Ok(Reach::Ledger(Box::new(Ledger { client, target: target.clone(), in_snapshot: false })))
}
