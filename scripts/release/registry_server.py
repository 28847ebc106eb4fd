#!/usr/bin/env python3
"""A provider registry (Terraform's provider registry protocol, v1) serving
one release directory over HTTPS, so the release test installs a release
exactly as a registry would hand it out: Terraform itself checks the zip
against the SHA256SUMS and the SHA256SUMS against its GPG signature, and
records the signed zh: hashes in the lock file.

  registry_server.py DIST_DIR VERSION CERT KEY PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE) until killed.
Serves matbakh/matbakh only. Terraform must trust CERT (SSL_CERT_FILE).
"""

import http.server
import json
import os
import re
import ssl
import subprocess
import sys

dist, version, cert, key, port_file = sys.argv[1:]
NAME = "terraform-provider-matbakh"
sums_name = f"{NAME}_{version}_SHA256SUMS"
with open(os.path.join(dist, sums_name)) as f:
    sums = dict(reversed(line.split()) for line in f if line.strip())
platforms = sorted(
    m.group(1)
    for name in sums
    if (m := re.fullmatch(re.escape(f"{NAME}_{version}_") + r"([a-z0-9]+_[a-z0-9]+)\.zip", name))
)
with open(os.path.join(dist, "signing-key.asc")) as f:
    armor = f.read()
key_id = subprocess.run(
    ["gpg", "--show-keys", "--with-colons", os.path.join(dist, "signing-key.asc")],
    capture_output=True, text=True, check=True,
).stdout.split("pub:")[1].split(":")[3]


class Registry(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("registry: " + (fmt % args) + "\n")

    def send_json(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        base = f"https://{self.headers['Host']}"
        path = self.path.split("?")[0]
        if path == "/.well-known/terraform.json":
            return self.send_json({"providers.v1": "/v1/providers/"})
        if path == "/v1/providers/matbakh/matbakh/versions":
            return self.send_json({"versions": [{
                "version": version,
                "protocols": ["6.0"],
                "platforms": [dict(zip(("os", "arch"), p.split("_"))) for p in platforms],
            }]})
        m = re.fullmatch(r"/v1/providers/matbakh/matbakh/([^/]+)/download/([a-z0-9]+)/([a-z0-9]+)", path)
        if m and m.group(1) == version and f"{m.group(2)}_{m.group(3)}" in platforms:
            filename = f"{NAME}_{version}_{m.group(2)}_{m.group(3)}.zip"
            return self.send_json({
                "protocols": ["6.0"],
                "os": m.group(2),
                "arch": m.group(3),
                "filename": filename,
                "download_url": f"{base}/files/{filename}",
                "shasums_url": f"{base}/files/{sums_name}",
                "shasums_signature_url": f"{base}/files/{sums_name}.sig",
                "shasum": sums[filename],
                "signing_keys": {"gpg_public_keys": [{"key_id": key_id, "ascii_armor": armor}]},
            })
        m = re.fullmatch(r"/files/([A-Za-z0-9_.\-]+)", path)
        if m and os.path.isfile(os.path.join(dist, m.group(1))):
            with open(os.path.join(dist, m.group(1)), "rb") as f:
                data = f.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)
            return
        self.send_error(404)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Registry)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(port_file + ".tmp", port_file)
server.serve_forever()
