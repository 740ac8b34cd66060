# cffi_modules, and the built-in scenario suite shipped inside the package;
# everything else is in pyproject.toml.
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class build_py_with_scenarios(build_py):
    """Copy scenarios/ (the built-in suite) into the wheel as stress/scenarios,
    so an installed `lfstress run` has it. An editable install reads the
    checkout's scenarios/ directly (stress/scenario.py finds it)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "stress" / "scenarios"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(Path(__file__).parent / "scenarios", target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(
    cffi_modules=["native/build_cffi.py:stepped", "native/build_cffi.py:free"],
    cmdclass={"build_py": build_py_with_scenarios},
)
