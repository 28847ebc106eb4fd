#!/usr/bin/env python3
"""The registry layout of a release: what scripts/release.sh writes and what
scripts/release_test.sh checks, in one place so the two cannot drift.

  layout.py pack  --version V --dist DIR [--epoch SECONDS] OS_ARCH=BINARY...
  layout.py check --version V --dist DIR [--signed]
  layout.py h1 ZIP...            # Terraform's h1: hash of a provider zip

`pack` writes, into DIR:
  terraform-provider-matbakh_V_OS_ARCH.zip   one entry, terraform-provider-matbakh_vV
                                             (.exe on windows), mode 0755
  terraform-provider-matbakh_V_manifest.json the registry manifest (protocol 6.0)
  terraform-provider-matbakh_V_SHA256SUMS    every zip and the manifest
  mirror/HOST/matbakh/matbakh/               the zips in Terraform's packed
                                             filesystem-mirror layout, for HOST
                                             registry.terraform.io and
                                             registry.opentofu.org, plus the
                                             network-mirror index.json and V.json
The signature (…_SHA256SUMS.sig) is made by release.sh with gpg.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import time
import zipfile

NAME = "terraform-provider-matbakh"
NAMESPACE, TYPE = "matbakh", "matbakh"
MIRROR_HOSTS = ("registry.terraform.io", "registry.opentofu.org")
PLATFORMS = ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64")
PROTOCOL_VERSIONS = ["6.0"]


def zip_name(version, platform):
    return f"{NAME}_{version}_{platform}.zip"


def binary_name(version, platform):
    return f"{NAME}_v{version}" + (".exe" if platform.startswith("windows_") else "")


def manifest_name(version):
    return f"{NAME}_{version}_manifest.json"


def sums_name(version):
    return f"{NAME}_{version}_SHA256SUMS"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def h1_of_zip(path):
    """golang.org/x/mod/sumdb/dirhash.Hash1 over the zip's files, which is
    what Terraform records as `h1:` in .terraform.lock.hcl."""
    lines = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(z.namelist()):
            if name.endswith("/"):
                continue
            lines.append(f"{hashlib.sha256(z.read(name)).hexdigest()}  {name}\n")
    return "h1:" + base64.b64encode(hashlib.sha256("".join(lines).encode()).digest()).decode()


def write_zip(binary, dst, entry, epoch):
    # A fixed timestamp (the commit's) keeps the zip, and so its zh: hash,
    # the same for the same binary.
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    info = zipfile.ZipInfo(entry, date_time=stamp)
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    info.create_system = 3  # unix, so the mode bits are honoured on unzip
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as f:
        data = f.read()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(info, data)


def pack(args):
    version, dist = args.version, args.dist
    os.makedirs(dist, exist_ok=True)
    built = {}
    for item in args.binaries:
        platform, _, binary = item.partition("=")
        if platform not in PLATFORMS or not binary:
            sys.exit(f"layout: expected OS_ARCH=BINARY with OS_ARCH one of {PLATFORMS}, got {item!r}")
        dst = os.path.join(dist, zip_name(version, platform))
        write_zip(binary, dst, binary_name(version, platform), args.epoch)
        built[platform] = dst

    manifest = {"version": 1, "metadata": {"protocol_versions": PROTOCOL_VERSIONS}}
    repo_manifest = os.path.join(os.path.dirname(__file__), "..", "..", "terraform-registry-manifest.json")
    with open(repo_manifest) as f:
        if json.load(f) != manifest:
            sys.exit("layout: terraform-registry-manifest.json differs from the protocol this provider serves (6.0)")
    shutil.copyfile(repo_manifest, os.path.join(dist, manifest_name(version)))

    # Every zip in DIR (a subset build may add to an earlier one) and the
    # manifest: HCP Terraform's private registry wants the manifest listed.
    listed = sorted(f for f in os.listdir(dist) if re.fullmatch(re.escape(f"{NAME}_{version}_") + r"[a-z0-9]+_[a-z0-9]+\.zip", f))
    listed.append(manifest_name(version))
    with open(os.path.join(dist, sums_name(version)), "w") as f:
        for name in sorted(listed):
            f.write(f"{sha256_file(os.path.join(dist, name))}  {name}\n")

    archives = {}
    for name in listed[:-1]:
        platform = name[len(f"{NAME}_{version}_"):-len(".zip")]
        archives[platform] = {"url": name, "hashes": [h1_of_zip(os.path.join(dist, name))]}
    for host in MIRROR_HOSTS:
        mirror = os.path.join(dist, "mirror", host, NAMESPACE, TYPE)
        os.makedirs(mirror, exist_ok=True)
        for name in listed[:-1]:
            shutil.copyfile(os.path.join(dist, name), os.path.join(mirror, name))
        # Network mirror protocol: the same directory served over HTTPS.
        index_path = os.path.join(mirror, "index.json")
        index = {"versions": {}}
        if os.path.exists(index_path):
            with open(index_path) as f:
                index = json.load(f)
        index["versions"][version] = {}
        with open(index_path, "w") as f:
            json.dump(index, f, indent=2, sort_keys=True)
            f.write("\n")
        with open(os.path.join(mirror, f"{version}.json"), "w") as f:
            json.dump({"archives": archives}, f, indent=2, sort_keys=True)
            f.write("\n")
    print(os.path.abspath(os.path.join(dist, "mirror")))


def check(args):
    """Every rule a registry applies to a release directory; exits non-zero
    naming the first broken one."""
    version, dist = args.version, args.dist
    problems = []
    zips = sorted(f for f in os.listdir(dist) if f.endswith(".zip"))
    platforms = []
    for name in zips:
        m = re.fullmatch(re.escape(f"{NAME}_{version}_") + r"([a-z0-9]+_[a-z0-9]+)\.zip", name)
        if not m or m.group(1) not in PLATFORMS:
            problems.append(f"unexpected zip name {name}")
            continue
        platforms.append(m.group(1))
    if not platforms:
        problems.append("no zips")
    for want in args.platforms or []:
        if want not in platforms:
            problems.append(f"missing the {want} zip")

    manifest_path = os.path.join(dist, manifest_name(version))
    try:
        with open(manifest_path) as f:
            manifest = json.load(f)
        if manifest.get("version") != 1 or manifest.get("metadata", {}).get("protocol_versions") != ["6.0"]:
            problems.append(f"manifest is not version 1 with protocol_versions [\"6.0\"]: {manifest}")
    except (OSError, ValueError) as e:
        problems.append(f"manifest: {e}")

    sums_path = os.path.join(dist, sums_name(version))
    listed = {}
    try:
        with open(sums_path) as f:
            for line in f:
                m = re.fullmatch(r"([0-9a-f]{64})  (\S+)\n", line)
                if not m:
                    problems.append(f"SHA256SUMS line not in sha256sum format: {line!r}")
                    continue
                listed[m.group(2)] = m.group(1)
    except OSError as e:
        problems.append(f"SHA256SUMS: {e}")
    expected = set(zips) | {manifest_name(version)}
    if set(listed) != expected:
        problems.append(f"SHA256SUMS lists {sorted(listed)}, expected {sorted(expected)}")
    for name, digest in listed.items():
        path = os.path.join(dist, name)
        if os.path.exists(path) and sha256_file(path) != digest:
            problems.append(f"SHA256SUMS: {name} does not match its sum")
    if args.signed and not os.path.exists(sums_path + ".sig"):
        problems.append("no SHA256SUMS.sig")

    for platform in platforms:
        path = os.path.join(dist, zip_name(version, platform))
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = [i.filename for i in infos]
            if names != [binary_name(version, platform)]:
                problems.append(f"{path} holds {names}, expected [{binary_name(version, platform)}]")
                continue
            mode = infos[0].external_attr >> 16
            if not (stat.S_ISREG(mode) and mode & 0o111):
                problems.append(f"{path}: {names[0]} is not a regular executable file (mode {oct(mode)})")
            head = z.open(infos[0]).read(64)
        want_format = {
            "linux": lambda h: h[:4] == b"\x7fELF",
            "darwin": lambda h: h[:4] in (b"\xcf\xfa\xed\xfe",),
            "windows": lambda h: h[:2] == b"MZ",
        }[platform.split("_")[0]]
        if not want_format(head):
            problems.append(f"{path}: the binary is not a {platform.split('_')[0]} executable")
        elif platform.startswith("linux"):
            machine = int.from_bytes(head[18:20], "little")
            if machine != {"linux_amd64": 62, "linux_arm64": 183}[platform]:
                problems.append(f"{path}: ELF machine {machine} is not {platform}")
        elif platform.startswith("darwin"):
            cpu = int.from_bytes(head[4:8], "little")
            if cpu != {"darwin_amd64": 0x01000007, "darwin_arm64": 0x0100000C}[platform]:
                problems.append(f"{path}: Mach-O cpu type {cpu:#x} is not {platform}")

    for host in MIRROR_HOSTS:
        mirror = os.path.join(dist, "mirror", host, NAMESPACE, TYPE)
        for name in zips:
            copy = os.path.join(mirror, name)
            if not os.path.exists(copy) or sha256_file(copy) != listed.get(name):
                problems.append(f"mirror {host}: {name} missing or different")
        try:
            with open(os.path.join(mirror, f"{version}.json")) as f:
                archives = json.load(f)["archives"]
            for platform in platforms:
                entry = archives.get(platform, {})
                want = h1_of_zip(os.path.join(dist, zip_name(version, platform)))
                if entry.get("url") != zip_name(version, platform) or entry.get("hashes") != [want]:
                    problems.append(f"mirror {host}: {version}.json entry for {platform} is {entry}")
            with open(os.path.join(mirror, "index.json")) as f:
                if version not in json.load(f)["versions"]:
                    problems.append(f"mirror {host}: index.json does not list {version}")
        except (OSError, ValueError, KeyError) as e:
            problems.append(f"mirror {host}: network-mirror json: {e}")

    for p in problems:
        print(f"layout check: {p}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"layout check: {len(platforms)} zips ({' '.join(platforms)}), manifest and SHA256SUMS ok")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--version", required=True)
    p.add_argument("--dist", required=True)
    p.add_argument("--epoch", type=int, default=int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")))
    p.add_argument("binaries", nargs="+")
    c = sub.add_parser("check")
    c.add_argument("--version", required=True)
    c.add_argument("--dist", required=True)
    c.add_argument("--signed", action="store_true")
    c.add_argument("--platforms", nargs="*")
    h = sub.add_parser("h1")
    h.add_argument("zips", nargs="+")
    args = parser.parse_args()
    if args.command == "pack":
        pack(args)
    elif args.command == "check":
        check(args)
    else:
        for path in args.zips:
            print(h1_of_zip(path))


if __name__ == "__main__":
    main()
