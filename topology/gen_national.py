#!/usr/bin/env python3
"""Generate Simpul's national topology from the idn-area administrative data.

Writes deploy/topology/national.yaml (Kemenpan RB as the national node, the ministries and
lembaga, national-level routing rules, and an include of every province) and one file per
province, deploy/topology/provinces/NN.yaml (the province and its kabupaten and kota, with
their Kemendagri codes and names).

    python3 topology/gen_national.py [--data DIR] [--out DIR]

Defaults: --data ../shared/data/idn-area (next to the repository), --out deploy/topology.
The region data is from the npm package idn-area-data 3.1.2, under the Open Database
License (ODbL); the generated files are a derivative database under the same licence.
Keys cannot be generated here: each agency adds its own sign_key and seal_key(s).
Python 3 standard library only; the output is deterministic.
"""

import argparse
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PORT = 7500
MAX_KEYWORD = 32

# Kementerian of Kabinet Indonesia Maju, less Kemenpan RB, which is the national node.
MINISTRIES = [
    ("kemenko-polhukam", "Kementerian Koordinator Bidang Politik, Hukum, dan Keamanan"),
    ("kemenko-perekonomian", "Kementerian Koordinator Bidang Perekonomian"),
    ("kemenko-pmk", "Kementerian Koordinator Bidang Pembangunan Manusia dan Kebudayaan"),
    ("kemenko-marves", "Kementerian Koordinator Bidang Kemaritiman dan Investasi"),
    ("kemensetneg", "Kementerian Sekretariat Negara"),
    ("kemendagri", "Kementerian Dalam Negeri"),
    ("kemenlu", "Kementerian Luar Negeri"),
    ("kemhan", "Kementerian Pertahanan"),
    ("kemenag", "Kementerian Agama"),
    ("kemenkumham", "Kementerian Hukum dan Hak Asasi Manusia"),
    ("kemenkeu", "Kementerian Keuangan"),
    ("kemendikbudristek", "Kementerian Pendidikan, Kebudayaan, Riset, dan Teknologi"),
    ("kemenkes", "Kementerian Kesehatan"),
    ("kemensos", "Kementerian Sosial"),
    ("kemnaker", "Kementerian Ketenagakerjaan"),
    ("kemenperin", "Kementerian Perindustrian"),
    ("kemendag", "Kementerian Perdagangan"),
    ("kemenesdm", "Kementerian Energi dan Sumber Daya Mineral"),
    ("kemenpupr", "Kementerian Pekerjaan Umum dan Perumahan Rakyat"),
    ("kemenhub", "Kementerian Perhubungan"),
    ("kemenkominfo", "Kementerian Komunikasi dan Informatika"),
    ("kementan", "Kementerian Pertanian"),
    ("kemenlhk", "Kementerian Lingkungan Hidup dan Kehutanan"),
    ("kemenkp", "Kementerian Kelautan dan Perikanan"),
    ("kemendesa", "Kementerian Desa, Pembangunan Daerah Tertinggal, dan Transmigrasi"),
    ("kemenatrbpn", "Kementerian Agraria dan Tata Ruang/Badan Pertanahan Nasional"),
    ("bappenas", "Kementerian Perencanaan Pembangunan Nasional/Bappenas"),
    ("kemenbumn", "Kementerian Badan Usaha Milik Negara"),
    ("kemenkopukm", "Kementerian Koperasi dan Usaha Kecil dan Menengah"),
    ("kemenparekraf", "Kementerian Pariwisata dan Ekonomi Kreatif"),
    ("kemenpppa", "Kementerian Pemberdayaan Perempuan dan Perlindungan Anak"),
    ("kemenpora", "Kementerian Pemuda dan Olahraga"),
    ("kemeninvestasi", "Kementerian Investasi/Badan Koordinasi Penanaman Modal"),
]

LEMBAGA = [
    ("bpjs-kesehatan", "BPJS Kesehatan"),
    ("bpjs-ketenagakerjaan", "BPJS Ketenagakerjaan"),
    ("polri", "Kepolisian Negara Republik Indonesia"),
    ("kejaksaan", "Kejaksaan Agung Republik Indonesia"),
    ("ojk", "Otoritas Jasa Keuangan"),
    ("bpom", "Badan Pengawas Obat dan Makanan"),
    ("bkn", "Badan Kepegawaian Negara"),
    ("bnpb", "Badan Nasional Penanggulangan Bencana"),
    ("bp2mi", "Badan Pelindungan Pekerja Migran Indonesia"),
    ("bps", "Badan Pusat Statistik"),
    ("bmkg", "Badan Meteorologi, Klimatologi, dan Geofisika"),
    ("lkpp", "Lembaga Kebijakan Pengadaan Barang/Jasa Pemerintah"),
    ("bpkp", "Badan Pengawasan Keuangan dan Pembangunan"),
    ("ombudsman", "Ombudsman Republik Indonesia"),
]

# National-level rules: categories handled by a national agency wherever the complaint is.
ROUTES = [
    ("jaminan-sosial/kesehatan", "bpjs-kesehatan"),
    ("jaminan-sosial/ketenagakerjaan", "bpjs-ketenagakerjaan"),
    ("kepolisian", "polri"),
    ("pertanahan", "kemenatrbpn"),
    ("perpajakan", "kemenkeu"),
    ("jasa-keuangan", "ojk"),
    ("obat-dan-makanan", "bpom"),
    ("pekerja-migran", "bp2mi"),
    ("kepegawaian/seleksi-asn", "bkn"),
    ("haji-dan-umrah", "kemenag"),
]

# Extra peer links between neighbouring provinces, for redundancy when national is down.
NEIGHBOUR_CHAINS = [
    ["11", "12", "13", "14", "15", "16", "17", "18"], ["16", "19"], ["14", "21"],
    ["36", "31", "32", "33", "34"], ["33", "35"], ["35", "51", "52", "53"],
    ["61", "62", "63", "64", "65"], ["71", "75", "72", "73", "74"], ["73", "76"],
    ["81", "82"], ["96", "92", "91", "94", "95", "93"],
]

KEEP_UPPER = {"DKI"}


def title(name):
    return " ".join(w if w in KEEP_UPPER else w.capitalize() for w in name.split())


def camel(words):
    return "".join(w if w in KEEP_UPPER else w.capitalize() for w in words)


def regency_keyword(name):
    words = [w for w in name.split() if w != "ADMINISTRASI"]
    prefix = {"KABUPATEN": "Kab", "KOTA": "Kota"}[words[0]]
    return prefix + camel(words[1:])


def address(node_id):
    return "tls+tcp://%s.simpul.lapor.go.id:%d" % (node_id, PORT)


def read_csv(path, header):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if rows[0] != header:
        sys.exit("%s: expected header %s, found %s" % (path, header, rows[0]))
    return rows[1:]


def node_lines(node_id, kind, name, code=None, parent=None, keywords=(), peers=()):
    out = ["  - id: %s" % node_id, "    kind: %s" % kind]
    if code:
        out.append('    code: "%s"' % code)
    out.append("    name: %s" % name)
    if parent:
        out.append("    parent: %s" % parent)
    out.append("    address: %s" % address(node_id))
    if keywords:
        out.append("    sms_keywords: [%s]" % ", ".join(keywords))
    if peers:
        out.append("    peers: [%s]" % ", ".join(peers))
    return out


HEADER = [
    "# Generated by topology/gen_national.py; edit the generator, not this file, then run",
    "#   python3 topology/gen_national.py",
    "# Region codes and names: idn-area-data 3.1.2, Open Database License (ODbL) 1.0.",
    "# Keys are not included: each agency adds its sign_key and seal_key(s).",
    "version: 1",
]


def extra_peers():
    peers = {}
    for chain in NEIGHBOUR_CHAINS:
        for a, b in zip(chain, chain[1:]):
            lo, hi = sorted((a, b))
            peers.setdefault(lo, []).append("prov-" + hi)
    return peers


def check_keyword(seen, kw, owner):
    if len(kw) > MAX_KEYWORD or not re.fullmatch(r"[A-Za-z0-9]{2,}", kw):
        sys.exit("keyword %r of %s is not 2-%d letters or digits" % (kw, owner, MAX_KEYWORD))
    if kw.lower() in seen:
        sys.exit("keyword %r of %s is also %s's" % (kw, owner, seen[kw.lower()]))
    seen[kw.lower()] = owner


def province_file(code, name, regencies, peers, seen):
    pid = "prov-" + code
    kw = camel(name.split())
    check_keyword(seen, kw, pid)
    out = HEADER + ["nodes:"]
    out += node_lines(pid, "province", title(name), code, "national", [kw], peers.get(code, []))
    for rcode, rname in regencies:
        kind = "kota" if rname.startswith("KOTA ") else "kabupaten"
        rid = "%s-%s" % ("kota" if kind == "kota" else "kab", rcode.replace(".", ""))
        rkw = regency_keyword(rname)
        check_keyword(seen, rkw, rid)
        out += node_lines(rid, kind, title(rname), rcode, pid, [rkw])
    return "\n".join(out) + "\n"


def national_file(codes):
    out = HEADER + ["include:"]
    out += ["  - provinces/%s.yaml" % c for c in codes]
    out += ["nodes:"]
    out += node_lines("national", "national", "Kementerian PANRB")
    for nid, name in MINISTRIES:
        out += node_lines(nid, "ministry", name, parent="national")
    for nid, name in LEMBAGA:
        out += node_lines(nid, "lembaga", name, parent="national")
    out += ["routes:"]
    for category, agency in ROUTES:
        out.append("  - {category: %s, agency: %s}" % (category, agency))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "idn-area"))
    ap.add_argument("--out", default=os.path.join(REPO, "deploy", "topology"))
    args = ap.parse_args()
    provinces = read_csv(os.path.join(args.data, "provinces.csv"), ["code", "name"])
    regencies = read_csv(os.path.join(args.data, "regencies.csv"),
                         ["code", "province_code", "name"])
    by_province = {}
    for rcode, pcode, rname in regencies:
        if not rcode.startswith(pcode + "."):
            sys.exit("regency %s is not in province %s" % (rcode, pcode))
        by_province.setdefault(pcode, []).append((rcode, rname))
    os.makedirs(os.path.join(args.out, "provinces"), exist_ok=True)
    peers, seen = extra_peers(), {}
    for code, name in provinces:
        text = province_file(code, name, sorted(by_province.get(code, [])), peers, seen)
        with open(os.path.join(args.out, "provinces", code + ".yaml"), "w") as f:
            f.write(text)
    with open(os.path.join(args.out, "national.yaml"), "w") as f:
        f.write(national_file([c for c, _ in provinces]))
    print("wrote %d provinces, %d regencies to %s" % (len(provinces), len(regencies), args.out))


if __name__ == "__main__":
    main()
