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

#[cfg(test)]
mod tests {
    use super::super::testing::{MINIMAL, cx, manifest, written};
    use super::*;

    #[test]
    fn each_client_with_its_place() {
        let m = manifest(&format!(
            "{MINIMAL}\n[[clients]]\nname = \"psql\"\nconnections = 3\n"
        ));
        let c = clients(&cx(&m));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].connections.value, 3);
        assert_eq!(written(&m, &c[0].connections), "3");
        assert!(clients(&cx(&manifest(MINIMAL))).is_empty());
    }
}
