#!/usr/bin/env python3
"""The README runs as written: every fenced YAML block and every shell command of README.md.

Run by ctest (test `readme_runs_as_written`):  readme_runs_test.py --efsim BUILD/efsim --source DIR

- YAML blocks: a block with a top-level `runs:` is a whole scenario and must pass
  `efsim run --check` as it stands. A fragment (e.g. a `platform:` block) is put in front of a
  minimal scenario supplying only the top-level keys it lacks (so error lines are the block's own)
  and must pass `efsim run --check` too.
- Shell commands: the lines of ```sh blocks and the inline `code` spans that start with efsim,
  ./build/efsim, ./run.sh, python3, analysis/, apt-get or sbatch. Each is one of:
  * a synopsis (placeholders such as SCENARIO, DIR, [--opt], ...): the subcommand exists, and
    every option it shows is in both `efsim SUB --help` and the top-level `efsim --help`;
  * `--set ...` arguments: run as `efsim run --check scenarios/quickstart.yaml --set ...`;
  * an efsim command: run for real from the source folder when it is cheap and writes nothing
    (methods, compressors, topology, --help, --version); `efsim run` is run with `--check`
    appended (a real run would write results/ into the source tree; the quickstart's real run is
    checked below); see SKIPPED for the rest;
  * SKIPPED (too slow, or changes the machine), each still checked as far as it can be without
    running it (see skip_check).
- The quickstart's printed table (the untyped block after the Quick start commands) equals what
  `efsim run scenarios/quickstart.yaml` prints today, apart from the results path.
- Every repository path the README names (scenarios/..., platforms/..., tests/..., analysis/...)
  exists.

Exit status 0 when every check passes, 1 otherwise (each failure names its README line).
"""
import argparse
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile

# Commands not run, with the reason (documented here and printed). Each is still checked by
# skip_check: the script or subcommand exists, a wrapped efsim command passes --check, ...
SKIPPED = [
    (r"^\./run\.sh\b", "installs packages with apt and builds (CI runs ./run.sh test itself)"),
    (r"^sbatch\b", "needs a Slurm cluster (tests/slurm/local_cluster.sh runs it for real); "
                   "the efsim command it wraps passes --check"),
    (r"^apt-get\b", "changes the machine"),
    (r"^python3 tests/bench/", "benchmarks: minutes, and they need the efsim_bench target"),
    (r"^\./build/efsim validate\b(?!.*--quick)", "about 90 s of ns-3"),
    (r"^\./build/efsim report\b(?!.*--help)", "needs the results of a sweep (the Slurm test "
                                             "merges shards with it; the C++ tests check report "
                                             "and merging)"),
    (r"^\./build/efsim compare\b(?!.*--help)", "needs the results of sweeps (tests/sweep_test.cpp "
                                              "runs it)"),
    (r"^\./build/tests/bench/", "benchmarks: minutes (not part of the test suite)"),
]

PLACEHOLDER = re.compile(r"\[|\.\.\.|…|^[A-Z][A-Z_]*(\.[a-z]+)?$|^[A-Z]+/|/[A-Z]+$|^[A-Z]+/[A-Z]+$")

# The top-level keys a fragment may lack, from a minimal scenario (10 workers, synthetic data).
BASE = {
    "problem": "problem:\n  dataset: synthetic\n  synthetic: {samples: 400, dim: 100}\n  workers: 8\n",
    "runs": "runs:\n  - method: gd\n",
    "stop": "stop: {max_rounds: 10}\n",
}


class Checker:
    def __init__(self, efsim, source, tmp):
        self.efsim = os.path.abspath(efsim)
        self.source = os.path.abspath(source)
        self.tmp = tmp
        self.failures = []
        self.passed = 0
        self.skipped = 0
        self.help_cache = {}

    def fail(self, line, what):
        self.failures.append("README.md:%d: %s" % (line, what))

    def ok(self):
        self.passed += 1

    def run(self, argv, timeout=300, stdout_only=False):
        argv = [self.efsim if a == "./build/efsim" else a for a in argv]
        p = subprocess.run(argv, cwd=self.source, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout if stdout_only else p.stdout + p.stderr

    def help_text(self, sub):
        if sub not in self.help_cache:
            argv = ["./build/efsim", "--help"] if sub is None else ["./build/efsim", sub, "--help"]
            self.help_cache[sub] = self.run(argv)
        return self.help_cache[sub]

    # ----- YAML blocks
    def check_yaml(self, line, text, index):
        keys = set(re.findall(r"^([A-Za-z_]+):", text, re.M))
        body = text
        if "runs" not in keys:
            body = text + "".join(v for k, v in BASE.items() if k not in keys)
        path = os.path.join(self.tmp, "readme_block_%d.yaml" % index)
        with open(path, "w") as f:
            f.write(body)
        code, out = self.run(["./build/efsim", "run", path, "--check"])
        if code != 0:
            m = re.search(r"readme_block_%d\.yaml:(\d+):" % index, out)
            where = " (README.md:%d)" % (line + int(m.group(1)) - 1) if m else ""
            self.fail(line, "YAML block fails `efsim run --check` (exit %d)%s:\n%s"
                      % (code, where, out))
        elif "valid;" not in out:
            self.fail(line, "YAML block: `efsim run --check` printed no run list:\n" + out)
        else:
            self.ok()

    # ----- shell commands
    def check_command(self, line, cmd):
        cmd = cmd.strip()
        if not cmd or cmd.startswith("#"):
            return
        if re.match(r"^efsim(?=\s|$)", cmd):  # not efsim.load (the Python package)
            cmd = "./build/" + cmd
        try:
            argv = shlex.split(cmd, comments=True)
        except ValueError as e:
            self.fail(line, "command does not parse as shell (%s): %s" % (e, cmd))
            return
        if not argv:
            return
        if argv[0] == "--set":  # arguments of efsim run
            code, out = self.run(["./build/efsim", "run", "scenarios/quickstart.yaml", "--check"] + argv)
            if code != 0:
                self.fail(line, "`efsim run --check scenarios/quickstart.yaml %s` exit %d:\n%s"
                          % (cmd, code, out))
            else:
                self.ok()
            return
        if len(argv) == 1 and argv[0] in ("build/efsim", "./run.sh"):  # a name, not a command
            self.ok()
            return
        flags = ("--fresh", "--no-report", "--yes", "--quiet", "--check", "--quick")
        positional = [a for k, a in enumerate(argv[2:], 2) if not a.startswith("-") and
                      not (argv[k - 1].startswith("--") and argv[k - 1] not in flags and
                           "=" not in argv[k - 1])]
        if any(PLACEHOLDER.search(a) for a in argv[1:]) or \
                (argv[0] == "./build/efsim" and len(argv) >= 2 and "--help" not in argv and
                 argv[1] in ("run", "report", "compare") and not positional):
            # a synopsis, or a command named without its operands ("efsim run --jobs 1")
            self.check_synopsis(line, cmd, argv)
            return
        for pattern, why in SKIPPED:
            if re.search(pattern, cmd):
                self.skipped += 1
                print("skipped README.md:%d: %s  (%s)" % (line, cmd, why))
                self.skip_check(line, cmd, argv)
                return
        if argv[0] == "./build/efsim":
            sub = argv[1] if len(argv) > 1 else ""
            if sub == "run" and "--check" not in argv:
                argv = argv + ["--check"]
            elif sub not in ("methods", "compressors", "topology", "--help", "-h", "--version",
                             "run", "validate") and "--help" not in argv:
                self.fail(line, "no rule for this efsim command (add it to SKIPPED or run it): " + cmd)
                return
            if "--dot" in argv:
                argv[argv.index("--dot") + 1] = os.path.join(self.tmp, "readme.dot")
            if sub == "validate":
                argv = argv + ["--out", os.path.join(self.tmp, "validation")]
            code, out = self.run(argv)
            if code != 0:
                self.fail(line, "`%s` exit %d:\n%s" % (" ".join(argv), code, out))
            else:
                self.ok()
            return
        if re.match(r"^(analysis|tests|platforms|scenarios)/", argv[0]):
            if not os.path.exists(os.path.join(self.source, argv[0])):
                self.fail(line, "no such file: " + argv[0])
            else:
                self.ok()
            return
        self.fail(line, "no rule for this command (run it or add it to SKIPPED): " + cmd)

    def check_synopsis(self, line, cmd, argv):
        tool = argv[0]
        if tool == "./build/efsim":
            sub = argv[1] if len(argv) > 1 and not argv[1].startswith("-") else None
            code, text = self.help_text(sub)
            if code != 0:
                self.fail(line, "`efsim %s --help` exit %d: %s" % (sub or "", code, text))
                return
            code, top = self.help_text(None)
            opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", cmd)) - {"--help"}
            missing = [o for o in sorted(opts) if o not in text]
            if missing:
                self.fail(line, "`efsim %s --help` does not mention %s (README: %s)"
                          % (sub, ", ".join(missing), cmd))
            missing_top = [o for o in sorted(opts) if o not in top]
            if sub is not None and ("efsim " + sub) not in top:
                missing_top.append("the command " + sub)
            if "PLATFORM.xml" in cmd and "PLATFORM.xml" not in top:
                missing_top.append("the PLATFORM.xml form")
            if missing_top:
                self.fail(line, "top-level `efsim --help` does not mention %s (README: %s)"
                          % (", ".join(missing_top), cmd))
            if not missing and not missing_top:
                self.ok()
        elif tool == "./run.sh":
            self.check_run_sh(line, argv)
        elif os.path.exists(os.path.join(self.source, tool)):
            self.ok()
        else:
            self.fail(line, "no such script: " + tool)

    def check_run_sh(self, line, argv):
        with open(os.path.join(self.source, "run.sh")) as f:
            script = f.read()
        sub = argv[1] if len(argv) > 1 else ""
        if not re.search(r"^\s*%s\)" % re.escape(sub), script, re.M):
            self.fail(line, "./run.sh has no command '%s'" % sub)
        else:
            self.ok()

    def skip_check(self, line, cmd, argv):
        if argv[0] == "./run.sh":
            self.check_run_sh(line, argv)
        elif argv[0] == "sbatch":
            wrap = argv[argv.index("--wrap") + 1] if "--wrap" in argv else ""
            inner = shlex.split(wrap.replace("${SLURM_ARRAY_TASK_ID}", "1"))
            array = [a for a in argv if a.startswith("--array=")]
            if not inner or inner[0] != "./build/efsim" or not array:
                self.fail(line, "sbatch: expected --array=... --wrap './build/efsim run ...': " + cmd)
                return
            code, out = self.run(inner + ["--check"])
            if code != 0:
                self.fail(line, "the command sbatch wraps fails --check (exit %d):\n%s" % (code, out))
            else:
                self.ok()
        elif argv[0] == "apt-get":
            pkgs = [a for a in argv[2:] if not a.startswith("-")]
            with open(os.path.join(self.source, "run.sh")) as f:
                script = f.read()
            unknown = [p for p in pkgs if p not in script]
            if unknown:
                self.fail(line, "apt-get: %s not among the packages run.sh installs" % unknown)
            else:
                self.ok()
        elif argv[0] == "python3":
            script = os.path.join(self.source, argv[1])
            if not os.path.exists(script):
                self.fail(line, "no such script: " + argv[1])
                return
            p = subprocess.run(["python3", script, "--help"], capture_output=True, text=True)
            if p.returncode != 0:
                self.fail(line, "`python3 %s --help` exit %d" % (argv[1], p.returncode))
            else:
                self.ok()
        elif argv[0] == "./build/efsim":
            code, out = self.help_text(argv[1])
            if code != 0:
                self.fail(line, "`efsim %s --help` exit %d" % (argv[1], code))
            else:
                self.ok()

    # ----- the quickstart's table
    def check_quickstart_output(self, line, block):
        out_dir = os.path.join(self.tmp, "quickstart")
        code, out = self.run(["./build/efsim", "run", "scenarios/quickstart.yaml", "--out", out_dir,
                              "--no-report", "--quiet"], timeout=600, stdout_only=True)
        if code != 0:
            self.fail(line, "quickstart run exit %d:\n%s" % (code, out))
            return
        want = [l for l in block.splitlines() if not l.startswith("results:")]
        got = [l for l in out.splitlines() if not l.startswith("results:")]
        if want != got:
            self.fail(line, "the quickstart's table differs from what it prints today:\n%s"
                      % "\n".join(got))
        else:
            self.ok()


def blocks_and_spans(text):
    """Fenced blocks (language, first content line, text without the fence's indentation) and
    inline code spans outside them (line, text; a span may wrap onto the next line)."""
    lines = text.split("\n")
    blocks, outside = [], []
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if m:
            indent, lang = len(m.group(1)), m.group(2)
            j = i + 1
            body = []
            while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
                body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
                j += 1
            blocks.append((lang, i + 2, "\n".join(body) + "\n"))
            outside.append("")  # keep line numbers
            outside.extend("" for _ in range(i + 1, j + 1))
            i = j + 1
        else:
            outside.append(lines[i])
            i += 1
    spans = []
    joined = "\n".join(outside)
    for m in re.finditer(r"`([^`]+)`", joined):
        spans.append((joined.count("\n", 0, m.start()) + 1, m.group(1).replace("\n", " ")))
    return blocks, spans


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--efsim", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--readme", help="default: SOURCE/README.md")
    args = ap.parse_args()
    readme = args.readme or os.path.join(args.source, "README.md")
    with open(readme) as f:
        text = f.read()
    blocks, spans = blocks_and_spans(text)
    with tempfile.TemporaryDirectory(prefix="efsim-readme-") as tmp:
        c = Checker(args.efsim, args.source, tmp)
        yaml_blocks = [b for b in blocks if b[0] == "yaml"]
        if not yaml_blocks:
            c.fail(1, "no YAML block found (the extraction is broken)")
        for n, (_, line, body) in enumerate(yaml_blocks):
            c.check_yaml(line, body, n)
        commands = 0
        for lang, line, body in blocks:
            if lang not in ("sh", "bash", "console"):
                continue
            for k, l in enumerate(body.splitlines()):
                if l.startswith("["):  # a wrapped synopsis line: checked with the line before
                    continue
                full = l
                rest = body.splitlines()[k + 1:]
                while rest and rest[0].startswith("["):
                    full += " " + rest.pop(0)
                for part in re.split(r" ; | && ", full):
                    if part.strip() and not part.strip().startswith("#"):
                        commands += 1
                        c.check_command(line + k, part)
        cmd_span = re.compile(r"^(\./)?(build/efsim|efsim(?=\s|$)|run\.sh|python3 |analysis/|apt-get |sbatch )")
        for line, span in spans:
            if cmd_span.match(span):
                for part in re.split(r" ; | && ", span):
                    commands += 1
                    c.check_command(line, part)
        if commands < 10:
            c.fail(1, "only %d commands found (the extraction is broken)" % commands)
        # The quickstart's output: the first untyped block after the first sh block.
        first_sh = next((k for k, b in enumerate(blocks) if b[0] == "sh"), None)
        if first_sh is not None and first_sh + 1 < len(blocks) and blocks[first_sh + 1][0] == "":
            c.check_quickstart_output(blocks[first_sh + 1][1], blocks[first_sh + 1][2])
        else:
            c.fail(1, "the quickstart's output block is missing")
        # Repository paths the README names.
        for m in re.finditer(r"(?<![\w/.])((?:scenarios|platforms|analysis|tests|algorithms|sim)/[\w./-]*\w)",
                             text):
            path = m.group(1)
            if "<" in path or "*" in path or path.endswith("/x"):
                continue
            if not glob.glob(os.path.join(args.source, path) + "*"):
                c.fail(text.count("\n", 0, m.start()) + 1, "no such path in the repository: " + path)
        for f in c.failures:
            print("FAIL " + f)
        print("readme: %d checks passed, %d failed, %d commands skipped (see SKIPPED)"
              % (c.passed, len(c.failures), c.skipped))
        return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
