"""The README's notebook example (the ```python block under "### Results in Python"), run exactly
as written, the way a notebook runs it, in a folder laid out like the repository's root with a
small sweep in results/quickstart."""
import ast
import os
import re
import unittest

import common

import matplotlib

matplotlib.use("Agg")


def snippet():
    with open(os.path.join(common.SOURCE, "README.md")) as f:
        text = f.read()
    at = text.index("### Results in Python")
    return re.search(r"```python\n(.*?)```", text[at:], re.S).group(1)


class ReadmeExample(unittest.TestCase):
    def setUp(self):
        self.sweeps = common.Sweeps()

    def tearDown(self):
        self.sweeps.close()

    def test_the_five_lines_run_as_written(self):
        code = snippet()
        self.assertEqual(len(code.strip().splitlines()), 5, code)
        root = self.sweeps.root
        os.symlink(common.ANALYSIS, os.path.join(root, "analysis"))
        os.makedirs(os.path.join(root, "results"))
        self.sweeps.run(os.path.join("results", "quickstart"), common.FEW, report=False,
                        scenario_name="quickstart")
        # A notebook: statements run, each expression's value is what a cell would show.
        shown = []
        scope = {}
        cwd = os.getcwd()
        os.chdir(root)
        try:
            for node in ast.parse(code).body:
                if isinstance(node, ast.Expr):
                    shown.append(eval(compile(ast.Expression(node.value), "README", "eval"), scope))
                else:
                    exec(compile(ast.Module([node], []), "README", "exec"), scope)
        finally:
            os.chdir(cwd)
        shown = [v for v in shown if v is not None]  # what the cells display
        self.assertEqual(len(shown), 2)
        table, axes = shown
        self.assertEqual(list(table["run_id"])[:2], ["gd-identity-x1", "gd-identity-x2"])
        self.assertEqual(len(table), 6)
        self.assertEqual(table["multiplier"].iloc[1], 2.0)
        self.assertGreater(table["time_to_target_s"].iloc[1], 0)
        # The plot: one line per run, ||grad f||^2 on a log axis.
        self.assertEqual(len(axes.get_lines()), 6)
        self.assertEqual(axes.get_yscale(), "log")
        self.assertEqual(sorted(t.get_text() for t in axes.get_legend().get_texts()),
                         sorted(table["run_id"]))


if __name__ == "__main__":
    unittest.main()
