"""``mdrl data fetch`` against a local HTTP server (127.0.0.1 only) serving shared/data.

The server honours ``Range`` (as raw.githubusercontent.com does), records the ranges it was
asked for, and can be told to cut a file off mid-transfer or to serve damaged bytes.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose, main
from mdrl.errors import UserError
from mdrl.jobs import data_fetch

SMALL = ["logic_rl_math_eval", "mbpp"]  # 4 files, about 0.9 MB: quick to serve


class Handler(SimpleHTTPRequestHandler):
    """Static files with single-range support and injectable faults."""

    cut: dict[str, int] = {}  # path -> bytes sent before the connection drops (once each)
    ranges: list[tuple[str, str | None]] = []

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        rel = self.path.lstrip("/")
        path = Path(self.directory) / rel
        Handler.ranges.append((rel, self.headers.get("Range")))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if m:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        limit = Handler.cut.pop(rel, None)
        if limit is not None:  # promise the whole body, send part of it, hang up
            self.wfile.write(body[:limit])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture()
def server(shared_data, tmp_path):
    """A copy of shared/data served on 127.0.0.1; yields (base URL, served folder)."""
    root = tmp_path / "served"
    shutil.copytree(shared_data, root)
    Handler.cut, Handler.ranges = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _cfg(data_root: Path, *overrides: str):
    return compose("data", [f"data_root={data_root}", *overrides])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_catalogue_matches_the_shared_manifest(shared_data):
    """Every released file of MANIFEST.md is listed with its sha256, and the sizes are right."""
    manifest = (shared_data / "MANIFEST.md").read_text()
    rows = re.findall(r"^\| ([\w./-]+\.(?:parquet|jsonl|json|jsonl\.gz)) \|.*\| ([0-9a-f]{64}) \|$", manifest, flags=re.M)
    listed = {r.path: r for r in data_fetch.releases(_cfg(Path("/unused")))}
    assert {p for p, _ in rows} == set(listed)
    for path, sha in rows:
        assert listed[path].sha256 == sha
        assert listed[path].bytes == (shared_data / path).stat().st_size
        assert len(listed[path].commit) == 40
    url = listed["dcs/countdown/train.parquet"].url(None)
    assert url == "https://raw.githubusercontent.com/Goodman-liyu/A-Data-Centric-Study/4d6713e70a1498e42548364dec7bec5c1c3c445d/data/countdown/train.parquet"


def test_fetch_everything_then_again_is_a_no_op(server, shared_data, tmp_path, capsys):
    url, _ = server
    dest = tmp_path / "data"
    rc = main(["data", "fetch", f"data_root={dest}", f"mirror={url}"])
    assert rc == 0, capsys.readouterr().err
    for rel in data_fetch.releases(_cfg(dest)):
        assert (dest / rel.path).read_bytes() == (shared_data / rel.path).read_bytes()
    assert not list(dest.rglob("*.part"))
    Handler.ranges.clear()
    status = data_fetch.fetch(_cfg(dest, f"mirror={url}"), progress=False)
    assert set(status.values()) == {"present"} and Handler.ranges == []


def test_interrupted_download_resumes_with_a_range_request(server, shared_data, tmp_path):
    url, _ = server
    dest = tmp_path / "data"
    big = "dcs/deepscaler/train.parquet"
    Handler.cut[big] = 300_000  # the first transfer stops here
    status = data_fetch.fetch(_cfg(dest, f"mirror={url}", "sources=dcs", "retries=2"), progress=False)
    assert status[big] == "fetched"
    assert (dest / big).read_bytes() == (shared_data / big).read_bytes()
    asked = [r for p, r in Handler.ranges if p == big]
    # the second request resumes after the bytes that reached disk (up to the cut; a chunk
    # torn by the cut is fetched again), not from zero
    assert len(asked) == 2 and asked[0] is None
    resumed_at = int(re.fullmatch(r"bytes=(\d+)-", asked[1]).group(1))
    assert 0 < resumed_at <= 300_000


def test_a_part_left_by_an_earlier_run_is_resumed_not_restarted(server, shared_data, tmp_path):
    url, _ = server
    dest = tmp_path / "data"
    rel = "mbpp/mbpp.jsonl"
    (dest / "mbpp").mkdir(parents=True)
    (dest / "mbpp" / "mbpp.jsonl.part").write_bytes((shared_data / rel).read_bytes()[:1000])
    data_fetch.fetch(_cfg(dest, f"mirror={url}", "sources=mbpp"), progress=False)
    assert _sha(dest / rel) == _sha(shared_data / rel)
    assert ("mbpp/mbpp.jsonl", "bytes=1000-") in Handler.ranges


def test_corrupted_file_is_refused_in_one_sentence_and_the_rest_kept(server, tmp_path, capsys):
    url, served = server
    dest = tmp_path / "data"
    bad = served / "mbpp" / "sanitized-mbpp.json"
    bad.write_bytes(bad.read_bytes()[:-10] + b"0123456789")  # same size, other bytes
    rc = main(["data", "fetch", f"data_root={dest}", f"mirror={url}", f"sources=[{','.join(SMALL)}]"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2
    assert "1 of 4 downloads failed (mbpp/sanitized-mbpp.json): sha256 mismatch" in err
    assert not (dest / "mbpp" / "sanitized-mbpp.json").exists()
    assert not (dest / "mbpp" / "sanitized-mbpp.json.part").exists()
    assert (dest / "mbpp" / "mbpp.jsonl").exists() and (dest / "logic_rl_math_eval" / "amc.jsonl").exists()


def test_damaged_local_copy_is_fetched_again(server, shared_data, tmp_path):
    url, _ = server
    dest = tmp_path / "data"
    data_fetch.fetch(_cfg(dest, f"mirror={url}", "sources=mbpp"), progress=False)
    (dest / "mbpp" / "mbpp.jsonl").write_bytes(b"garbage")
    status = data_fetch.fetch(_cfg(dest, f"mirror={url}", "sources=mbpp"), progress=False)
    assert status == {"mbpp/mbpp.jsonl": "fetched", "mbpp/sanitized-mbpp.json": "present"}
    assert _sha(dest / "mbpp" / "mbpp.jsonl") == _sha(shared_data / "mbpp" / "mbpp.jsonl")


def test_offline_fails_in_one_sentence(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = main(["data", "fetch", f"data_root={tmp_path}", f"mirror=http://127.0.0.1:{port}", "sources=mbpp", "retries=0"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    err = err.strip().splitlines()[-1]  # the line after the progress bar
    assert err.startswith("mdrl data: ")
    assert "2 of 2 downloads failed" in err and f"cannot reach 127.0.0.1:{port} (connection refused); check the network or set mirror=URL" in err


def test_hub_source_offline_fails_in_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as c

    monkeypatch.setattr(c, "HF_HUB_OFFLINE", True)
    with pytest.raises(UserError) as err:
        data_fetch.fetch(_cfg(tmp_path, "sources=code_r1_12k"), progress=False)
    msg = str(err.value)
    assert "\n" not in msg and "1 of 1 downloads failed (code_r1_12k): Hugging Face Hub download of ganler/code-r1-12k failed" in msg


def test_unknown_source_and_action_are_one_sentence(tmp_path, capsys):
    assert main(["data", "fetch", f"data_root={tmp_path}", "sources=nope"]) == 2
    assert "unknown data source 'nope' (choose from all, dcs," in capsys.readouterr().err
    assert main(["data", "burn", f"data_root={tmp_path}"]) == 2
    assert "action must be one of fetch, list, not 'burn'" in capsys.readouterr().err


def test_list_shows_what_is_present(tmp_path, capsys):
    (tmp_path / "mbpp").mkdir()
    (tmp_path / "mbpp" / "mbpp.jsonl").write_text("{}")
    assert main(["data", "list", f"data_root={tmp_path}"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"mbpp/mbpp\.jsonl +563,742 B  present", out)
    assert re.search(r"mbpp/sanitized-mbpp\.json .* missing", out)
    assert "hub:ganler/code-r1-12k" in out
    assert OmegaConf.select(_cfg(tmp_path), "hub.code_r1_12k.repo") == "ganler/code-r1-12k"
