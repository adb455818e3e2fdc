//! `Provenance`: every resource of the document, derived from its DocumentReference by
//! paperchart, recorded at the source object's modification time (no processing timestamp, so
//! reprocessing gives the same bytes).

use paperchart_model::bundle::Entry;
use serde_json::{json, Value};

use crate::codes::reference;

pub fn entry(id: String, targets: &[Entry], document: &str, recorded: &str, agent: &str) -> Entry {
    let targets: Vec<Value> = targets.iter().map(|e| reference(e.resource_type, &e.id)).collect();
    Entry {
        resource_type: "Provenance",
        id: id.clone(),
        resource: json!({
            "resourceType": "Provenance",
            "id": id,
            "target": targets,
            "recorded": recorded,
            "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE", "display": "create"}]},
            "agent": [{
                "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "assembler", "display": "Assembler"}]},
                "who": {"display": agent}
            }],
            "entity": [{"role": "source", "what": reference("DocumentReference", document)}]
        }),
    }
}
