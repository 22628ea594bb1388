//! `[[clients]]`: connections made straight to PostgreSQL, outside the pools.

use super::Ctx;
use crate::stack::{Client, Setting};

pub(super) fn clients(cx: &Ctx<'_>) -> Vec<Client> {
    let man = &cx.m.manifest;
    man.clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let i = i.to_string();
            Client {
                name: Setting::new(c.name.clone(), cx.origin(&["clients", &i, "name"])),
                connections: Setting::new(
                    c.connections,
                    cx.origin(&["clients", &i, "connections"]),
                ),
            }
        })
        .collect()
}
