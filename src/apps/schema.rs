//! The JSON Schema of `[[apps]]`: `kind`'s values and every kind's own keys.

use super::Ty;

/// The JSON Schema of a key's value.
fn ty_schema(ty: Ty) -> serde_json::Value {
    use serde_json::json;
    match ty {
        Ty::Count => json!({"type": "integer", "minimum": 0}),
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Secs => json!({"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]}),
        Ty::Choice(words) => json!({"type": "string", "enum": words}),
        Ty::CountOrNone => {
            json!({"anyOf": [{"type": "integer", "minimum": 0}, {"const": "none"}]})
        }
        Ty::Text => json!({"type": "string"}),
        Ty::Table => {
            json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}})
        }
    }
}

/// Complete the generated schema of `[[apps]]`: `kind`'s values and every kind's own keys (the
/// manifest type keeps them in a flattened map), and no other keys.
pub fn extend_schema(schema: &mut serde_json::Value) {
    let Some(entry) = schema.pointer_mut("/$defs/AppEntry") else {
        return;
    };
    if let Some(props) = entry.get_mut("properties").and_then(|p| p.as_object_mut()) {
        props.insert(
            "kind".into(),
            serde_json::json!({
                "description": "The application stack; each kind has its own keys (see the README's table of kinds).",
                "type": "string",
                "enum": super::names(),
            }),
        );
        for kind in super::KINDS {
            for def in kind.keys() {
                if props.contains_key(def.name) {
                    continue;
                }
                let mut s = ty_schema(def.ty);
                let kinds = super::kinds_with_key(def.name).join(", ");
                if let Some(o) = s.as_object_mut() {
                    o.insert(
                        "description".into(),
                        serde_json::Value::String(format!("({kinds}) {}", def.doc)),
                    );
                }
                props.insert(def.name.into(), s);
            }
        }
    }
    if let Some(o) = entry.as_object_mut() {
        o.insert(
            "additionalProperties".into(),
            serde_json::Value::Bool(false),
        );
    }
}
