"""Every example of README.md and docs/*.md runs as written. The examples are read from the Markdown when the
tests run, never copied here:

- shell lines of fenced `sh` and `powershell` blocks, and inline code that starts with a shell command
  (`sonocanvas build-device -o ...`): each `sonocanvas` command is parsed by bash itself (quotes, `~`, `\\ `,
  line continuations and comments as a shell reads them) and run through the CLI's entry point,
  `sonocanvas.bridge.cli.main`, in a temporary working folder with a temporary home folder, `--models
  tiny-random` added to `generate` and `stylize` (nothing downloads). In a block, `sonocanvas generate ...`
  stands for the options of the last complete `sonocanvas generate` line above it (README.md says so);
- OSC messages written inline in the docs' notation (`/sonocanvas/generate "7" "image_prompt" ...`: quoted
  strings, bare numbers) are sent as written over UDP to the docs' own `sonocanvas serve --models tiny-random`
  (a subprocess on a free 127.0.0.1 port), and must be answered without an `/sonocanvas/error`; a `generate`
  must finish, and a `preset/save` must make a preset that generates;
- YAML blocks parse; one headed `# <path>` is written there (a file the docs tell you to write), and one headed
  `# in ~/.config/sonocanvas/config.yaml` goes into the config of the OSC examples' server, which checks it.

What cannot run in a test is listed in NOT_RUN with the reason; an example that is neither run nor listed,
or a listed one that is gone from the docs, fails `test_every_example_is_run_or_listed`.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from osc_helpers import ServeProcess, UdpClient, write_config
from sonocanvas.bridge.osc.addresses import REQUESTS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md")))
SHELL_LANGS = {"sh", "bash", "shell", "powershell"}
KNOWN_LANGS = SHELL_LANGS | {"yaml", ""}  # "": a diagram or sample output, nothing to run
SHELL_WORDS = {"sonocanvas", "python", "python3", "py", "pip", "bash", "sh", "ssh", "ray", "cd", "node", "npm",
               "export", "source", "oscsend", "oscdump", "openssl", "curl"}
"""Inline code of two words or more starting with one of these (or with `NAME=value`) is a shell example; one
word alone (`oscsend`, `RAY_AUTH_MODE=token`) names a program or a setting in prose."""
SERVE_EXAMPLE = "sonocanvas serve --models tiny-random"
"""The server the OSC examples are sent to: the docs' own plumbing check, run with a test config."""

NOT_RUN: dict[str, str] = {
    # Installing (README, set up and run): downloads, or changes the machine or the calling shell.
    "python3 -m venv .venv": "makes the environment sonocanvas is installed into; .ci/install does it in CI",
    "source .venv/bin/activate": "changes the calling shell's PATH; nothing to check",
    "pip install torch==2.13.0": "downloads torch from PyPI",
    "pip install .": "installs this checkout; tests/test_packaging.py installs the wheel into a fresh environment",
    "py -m venv .venv": "Windows (PowerShell)",
    r".\.venv\Scripts\Activate.ps1": "Windows (PowerShell)",
    "python -m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128":
        "Windows (PowerShell); downloads the CUDA build of torch",
    "python -m pip install .": "Windows (PowerShell); tests/test_packaging.py installs the wheel",
    'sonocanvas build-device -o "$HOME\\Documents\\Ableton\\User Library\\Presets\\Audio Effects\\Max Audio '
    'Effect\\sonocanvas.amxd"': "Windows (PowerShell): a Windows path; the macOS line is run",
    "bash .ci/install && .venv/bin/sonocanvas serve":
        "installs system packages with apt and downloads torch, then serves the real models until stopped",
    "bash .ci/test": "runs the whole suite, this test included",
    "TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu bash .ci/install": "downloads torch (the CPU build)",
    "python -m pip install --force-reinstall torch==2.13.0 --index-url ...":
        "reinstalls torch from the net; `...` is the CUDA index URL of the line above",
    'python3 -c "import platform; print(platform.machine())"': "a check of a Mac's Python (arm64, not Rosetta)",
    # The real models, the machine, or a server that runs until stopped.
    "sonocanvas serve": "loads the real models (from the hub on first use) and runs until stopped; the OSC "
                        f"examples run against `{SERVE_EXAMPLE}` instead",
    "sonocanvas doctor": "checks this machine for the real models, audio outputs and port 9010 (exit 1 when "
                         "something is missing); tests/test_doctor.py checks its rows",
    "sonocanvas serve --host 100.64.0.7 --token \"$(openssl rand -hex 16)\"":
        "needs the VPN address 100.64.0.7 on this machine and the real models, and runs until stopped",
    "sonocanvas serve --ray local": "the real models on a Ray pool, until stopped; tests/test_cluster.py runs "
                                    "serve --ray with the tiny models",
    "sonocanvas serve --ray local --workers 1": "as `sonocanvas serve --ray local`",
    "sonocanvas serve --ray 100.64.0.7:6379 --host 100.64.0.7 --token \"$(openssl rand -hex 16)\"":
        "a Ray head and a VPN address that are not this machine's",
    "ssh -N -L 9010:127.0.0.1:9010 you@gpu-box": "needs a second machine (gpu-box)",
    "cd max4live && npm ci && node --test": "the device's node suite, which .ci/test runs (npm ci downloads)",
    'python3 -c "import pedalboard; print(list(pedalboard.load_plugin(\'/path/X.vst3\').parameters))"':
        "needs a VST3 plugin of your own (/path/X.vst3 stands for it)",
    # Ray (docs/studio.md): a cluster of machines.
    "pip install 'sonocanvas[ray]'": "downloads Ray; .ci/install installs the ray extra in CI",
    "pip install 'ray[default]'": "downloads Ray's dashboard",
    "export RAY_AUTH_MODE=token": "sets up a Ray cluster's token, with the commands after it",
    "ray get-auth-token --generate": "writes ~/.ray/auth_token for a Ray cluster",
    "ray start --head --node-ip-address 100.64.0.7 --port 6379": "a Ray head on a VPN address",
    "ray start --address 100.64.0.7:6379": "joins a Ray head on another machine",
    "ray start --address": "names the command in prose",
    "ray start --address ...": "names the command in prose",
    "ray status": "names the command in prose (a Ray cluster's status)",
    "ray start --node-manager-port 6380 --object-manager-port 6381": "options of `ray start` for a firewall",
    "ray start --min-worker-port 10002 --max-worker-port 10100": "options of `ray start` for a firewall",
    # Names in prose and templates, not command lines.
    "sonocanvas generate": "names the command in prose (it needs prompts and -o)",
    "sonocanvas serve --config": "names serve's option in prose",
    "sonocanvas serve --token <secret>": "a template: <secret> stands for yours (and serve runs until stopped)",
    "sonocanvas COMMAND --help": "a template: COMMAND stands for any subcommand",
}

USER_FILES = {
    "picture.jpg": "a picture of your own, for `encode`",
    "loop.wav": "a clip of your own, to riff on",
    "~/Music/Ableton/User Library/Presets/Audio Effects/Max Audio Effect/": "Live's User Library folder",
}
"""What the examples take as given on a user's machine, made by `make_user_files` before they run."""

OWN_SETTINGS = ("host", "port", "drop_dir", "read_dirs", "device")
"""The test server's config keys that the docs' config examples may not change (it must stay in the test)."""


@dataclass(frozen=True)
class Example:
    doc: str  # "README.md", "docs/osc.md"
    line: int
    kind: str  # "shell", "osc" or "yaml"
    text: str  # shell: the command on one line (continuations joined); osc: the message; yaml: the block
    block: int = 0  # the line of its fenced block's opening fence, 0 for inline code

    @property
    def where(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def command(self) -> str:
        """A shell example without its comment, spaces collapsed: its key in NOT_RUN."""
        return " ".join(re.sub(r"(^|\s)#\s.*$", "", self.text).split())


FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
INLINE = re.compile(r"(?<!`)`([^`]+)`(?!`)")


def parse(doc: str) -> list[Example]:
    """The examples of one Markdown file, in document order."""
    lines = (ROOT / doc).read_text(encoding="utf-8").split("\n")
    found: list[Example] = []
    prose = list(lines)  # the text outside fences, fences blanked so that line numbers stay
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, marker, lang = opening.groups()
        start, body = i, []
        i += 1
        while i < len(lines) and not (lines[i].strip().startswith(marker) and not lines[i].strip().strip(marker[0])):
            body.append((i, lines[i][len(indent):] if lines[i].startswith(indent) else lines[i].lstrip()))
            i += 1
        for n in range(start, min(i + 1, len(lines))):
            prose[n] = ""
        i += 1
        assert lang in KNOWN_LANGS, f"{doc}:{start + 1}: a ```{lang} block: teach {__file__} to run it, or list it"
        if lang in SHELL_LANGS:
            command: list[str] = []
            first = start
            for n, text in body:
                if not command:
                    first = n
                command.append(text)
                if text.rstrip().endswith("\\"):
                    continue
                joined = re.sub(r"\\\n\s*", "", "\n".join(command)).strip()
                command = []
                if joined and not joined.startswith("#"):
                    found.append(Example(doc, first + 1, "shell", joined, start + 1))
        elif lang == "yaml":
            found.append(Example(doc, start + 2, "yaml", "\n".join(text for _, text in body), start + 1))
    text = "\n".join(prose)
    for span in INLINE.finditer(text):
        code = " ".join(span.group(1).split())  # a span may run over a line break
        line = text.count("\n", 0, span.start()) + 1
        first = code.split(" ", 1)[0]
        if code.startswith("/sonocanvas/") and " " in code:
            found.append(Example(doc, line, "osc", code))
        elif " " in code and (first in SHELL_WORDS or re.match(r"[A-Z_][A-Z0-9_]*=\S", first)):
            found.append(Example(doc, line, "shell", code))
    return sorted(found, key=lambda e: e.line)


EXAMPLES = [example for doc in DOCS for example in parse(doc)]


def is_template(message: str) -> bool:
    """`/sonocanvas/hello <reply_port:int> [token:str]`: the docs' notation for a message's form, not a message."""
    return bool(re.search(r"<[^>]*>|\[[^\]]*\]", message))


def classify(example: Example) -> str:
    """How the example is checked: "cli", "server", "osc", "yaml", "template", "listed", or "unknown"."""
    if example.kind == "yaml":
        return "yaml"
    if example.kind == "osc":
        if is_template(example.text):
            return "template"
        return "osc" if example.text.split(" ", 1)[0] in REQUESTS else "listed" if example.text in NOT_RUN \
            else "unknown"
    if example.command in NOT_RUN:
        return "listed"
    if example.command == SERVE_EXAMPLE:
        return "server"
    if example.command.startswith("sonocanvas serve"):
        return "unknown"  # it would serve until stopped: listed, or the one the OSC examples are sent to
    return "cli" if example.command.startswith("sonocanvas ") else "unknown"


def test_every_example_is_run_or_listed():
    unknown = [f"{e.where}: {e.text}" for e in EXAMPLES if classify(e) == "unknown"]
    assert not unknown, "examples neither run nor listed in NOT_RUN:\n" + "\n".join(unknown)
    present = {e.command if e.kind == "shell" else e.text for e in EXAMPLES}
    stale = [command for command in NOT_RUN if command not in present]
    assert not stale, f"listed in NOT_RUN but no longer in the docs: {stale}"
    assert any(classify(e) == "server" for e in EXAMPLES), f"no `{SERVE_EXAMPLE}` in the docs to serve OSC from"


def test_the_reader_finds_what_the_docs_hold():
    """The reader itself: a fenced command over two lines, an inline command, a message and a template."""
    kinds = {(e.kind, classify(e)) for e in EXAMPLES}
    assert {("shell", "cli"), ("shell", "listed"), ("shell", "server"), ("osc", "osc"), ("yaml", "yaml")} <= kinds
    assert any(e.kind == "shell" and e.block and "\n" not in e.text and "--audio-prompt" in e.text
               and e.text.startswith("sonocanvas generate --image-prompt") for e in EXAMPLES)
    assert any(e.kind == "osc" and classify(e) == "template" for e in EXAMPLES)


# ---- shell -------------------------------------------------------------------------------------------------

ARGV_OF = 'sonocanvas() { printf "%s\\0" "$@"; }\n'
"""A stand-in `sonocanvas` for bash: it prints the arguments bash parsed, NUL-separated, and runs nothing."""


def argv_of(command: str, home: Path, cwd: Path) -> list[str]:
    """`command`'s arguments after `sonocanvas`, as bash parses them with HOME=`home` (so `~` is `home`)."""
    done = subprocess.run(["bash", "-c", ARGV_OF + command], capture_output=True, text=True, timeout=30,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, cwd=cwd, check=True)
    return done.stdout.split("\0")[:-1]


def with_ellipsis(example: Example, last: dict[tuple[int, str], str]) -> str:
    """The example with `sonocanvas generate ...` spelled out: the options of the block's last complete
    `sonocanvas generate` line. Records complete lines in `last`."""
    command = example.command  # without its comment, which would hide what follows the options
    found = re.match(r"(sonocanvas ([\w-]+)) (\.\.\.)(\s|$)", command)
    if not found:
        head = re.match(r"sonocanvas ([\w-]+) (.*)$", command)
        if head and example.block:
            last[(example.block, head.group(1))] = head.group(2)
        return command
    options = last.get((example.block, found.group(2)))
    assert options is not None, f"{example.where}: `...` but no complete `{found.group(1)}` above it in its block"
    return f"{found.group(1)} {options}{command[found.end(3):]}"


def make_user_files(cwd: Path, home: Path) -> None:
    from PIL import Image
    from sonocanvas.engine.audio import write_audio

    for name in USER_FILES:
        path = home / name[2:] if name.startswith("~/") else cwd / name
        if name.endswith("/"):
            path.mkdir(parents=True)
        elif name.endswith(".jpg"):
            ramp = np.linspace(0, 255, 96, dtype=np.float32)
            Image.fromarray(np.stack([np.outer(np.ones(64), ramp)] * 3, axis=-1).astype(np.uint8)).save(path)
        elif name.endswith(".wav"):
            t = np.arange(2 * 44100) / 44100
            write_audio(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
        else:
            raise AssertionError(f"USER_FILES: no way to make {name}")


def files_under(*folders: Path) -> set[Path]:
    return {path for folder in folders for path in folder.rglob("*") if path.is_file()}


def is_output(path: Path, output: str, cwd: Path) -> bool:
    """Whether `path` is what `-o output` names: a file in that folder, or that file (with `_r1`, `-2`, ... when
    there are several, or the name was taken: its stem starts the same)."""
    target = cwd / output
    if output.endswith("/") or not target.suffix:
        return target in path.parents
    return path.parent == target.parent and path.name.startswith(target.stem)


def home_path(text: str, home: Path) -> Path:
    return home / text[2:] if text.startswith("~/") else Path(text)


@pytest.fixture
def checkout_device():
    """`sonocanvas build-device` writes the checkout's max4live/sonocanvas.amxd (a build output, ignored by git):
    the one there before the test is put back after it."""
    from sonocanvas.bridge.commands.device import default_output

    path = default_output()
    before = path.read_bytes() if path.exists() else None
    yield path
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(before)


@pytest.mark.parametrize("doc", [d for d in DOCS if any(classify(e) == "cli" for e in EXAMPLES if e.doc == d)])
def test_the_commands_of_a_doc_run_as_written(doc, tmp_path, monkeypatch, capsys, tiny_model_paths,
                                              checkout_device):
    """Each `sonocanvas` command of `doc`, in document order, in one working folder (a later example may read
    what an earlier one wrote: `replay out/clip.json`), exits 0 and writes what its `-o` names."""
    from sonocanvas.bridge.cli import main

    cwd, home = tmp_path / "work", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(cwd)
    make_user_files(cwd, home)
    last: dict[tuple[int, str], str] = {}
    failures, ran = [], 0
    for example in (e for e in EXAMPLES if e.doc == doc):
        kind = classify(example)
        if kind == "yaml":
            data = yaml.safe_load(example.text)
            assert isinstance(data, (dict, list)), f"{example.where}: not a YAML mapping or list"
            target = re.match(r"#\s+(~?/\S+\.yaml)\s*$", example.text.split("\n", 1)[0])
            if target:  # a file the docs tell you to write
                path = home_path(target.group(1), home)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(example.text, encoding="utf-8")
            continue
        if kind != "cli":
            continue
        command = with_ellipsis(example, last)
        argv = argv_of(command, home, cwd)
        if argv[:1] in (["generate"], ["stylize"]) and "--models" not in argv:
            argv += ["--models", "tiny-random"]  # never the real models: nothing may download
        before = files_under(cwd, home)
        try:
            status = main(argv)
        except SystemExit as exit:  # argparse: --version, --help, or a usage error
            status = exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 2
        ran += 1
        err = capsys.readouterr().err
        output = argv[argv.index("-o") + 1] if "-o" in argv else None
        if status != 0:
            failures.append(f"{example.where}: `{command}` exited {status}:\n{err[-2000:]}")
        elif output is not None and not any(is_output(path, output, cwd) for path in files_under(cwd, home) - before):
            failures.append(f"{example.where}: `{command}` exited 0 but wrote nothing where -o {output} says")
    assert ran, f"no command of {doc} ran"
    assert not failures, "\n\n".join(failures)


# ---- OSC ---------------------------------------------------------------------------------------------------

TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def osc_message(text: str) -> tuple[str, list]:
    """The docs' notation, `/address "string" 42 0.5`, as an address and arguments: quoted strings, bare ints
    and reals; anything else is not the notation."""
    address, rest = text.split(" ", 1)
    args: list = []
    for quoted, bare in TOKEN.findall(rest):
        if bare == "":
            args.append(quoted.replace('\\"', '"'))
        elif re.fullmatch(r"-?\d+", bare):
            args.append(int(bare))
        elif re.fullmatch(r"-?\d+\.\d*", bare):
            args.append(float(bare))
        else:
            raise AssertionError(f"{text!r}: {bare!r} is neither a quoted string nor a number")
    return address, args


def docs_config() -> dict:
    """The config examples headed `# in ~/.config/sonocanvas/config.yaml`, merged, less the test's own keys."""
    merged: dict = {}
    for example in EXAMPLES:
        if example.kind == "yaml" and re.match(r"#\s+in\s+~/\.config/sonocanvas/config\.yaml", example.text):
            merged.update(yaml.safe_load(example.text))
    return {key: value for key, value in merged.items() if key not in OWN_SETTINGS}


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory, tiny_model_paths, sonocanvas_cache):
    """The docs' `sonocanvas serve --models tiny-random` as a subprocess, on a free port with a test config (the
    docs' config examples included: the server checks them as it starts)."""
    example = next(e for e in EXAMPLES if classify(e) == "server")
    folder = tmp_path_factory.mktemp("docs-serve")
    argv = argv_of(example.command, folder, folder)
    assert argv[:3] == ["serve", "--models", "tiny-random"], argv
    config = write_config(folder, **docs_config())
    process = ServeProcess(config, *argv[3:], cache=sonocanvas_cache)
    yield process
    assert process.stop() == 0, "".join(process.output)


OSC_EXAMPLES = [e for e in EXAMPLES if classify(e) == "osc"]


@pytest.mark.parametrize("example", OSC_EXAMPLES, ids=[e.where for e in OSC_EXAMPLES])
def test_an_osc_example_is_answered_without_an_error(example, docs_server):
    address, args = osc_message(example.text)
    client = UdpClient(docs_server.address)
    try:
        client.hello()
        client.send(address, *args)
        answer = REQUESTS[address].replies[0]
        got = client.expect(answer)  # an /sonocanvas/error on the way fails here, with its message
        if address == "/sonocanvas/generate":
            assert got[0] == args[0], got
            wait_done(client, args[0])
        elif address == "/sonocanvas/preset/save":
            # A preset is there to generate from: one alone in a request must make a clip.
            name = args[0]
            assert got == [name]
            job = f"docs-preset-{name}"
            client.send("/sonocanvas/generate", job, "preset", name)
            assert client.expect("/sonocanvas/queued")[0] == job
            wait_done(client, job)
            client.send("/sonocanvas/preset/delete", name)
            assert client.expect("/sonocanvas/preset/deleted") == [name]
    finally:
        client.close()


def wait_done(client: UdpClient, job: str) -> None:
    done = client.expect("/sonocanvas/done")
    assert done[0] == job and Path(done[2]).is_file(), done


def test_dots_stand_for_the_options_of_the_last_complete_line_of_their_block():
    last: dict[tuple[int, str], str] = {}
    full = Example("x.md", 2, "shell", "sonocanvas generate --preset a -o out/   # a comment", block=1)
    dots = Example("x.md", 3, "shell", "sonocanvas generate ... --seconds 30   # longer", block=1)
    elsewhere = Example("x.md", 9, "shell", "sonocanvas generate ... --loop", block=8)
    assert with_ellipsis(full, last) == "sonocanvas generate --preset a -o out/"
    assert with_ellipsis(dots, last) == "sonocanvas generate --preset a -o out/ --seconds 30"
    with pytest.raises(AssertionError, match="no complete"):
        with_ellipsis(elsewhere, last)


def test_bash_parses_a_line_continuation_quotes_and_tilde_as_a_shell_does(tmp_path):
    argv = argv_of('sonocanvas generate --image-prompt "a b" \\\n  -o ~/x\\ y  # comment', tmp_path, tmp_path)
    assert argv == ["generate", "--image-prompt", "a b", "-o", f"{tmp_path}/x y"]


if __name__ == "__main__":  # a listing of every example and how it is checked
    for e in EXAMPLES:
        print(f"{classify(e):9} {e.where}: {e.text.splitlines()[0]}")
