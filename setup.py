# cffi_modules, and the built-in scenario suite shipped inside the package;
# everything else is in pyproject.toml.
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


HERE = Path(__file__).parent


class build_py_with_scenarios(build_py):
    """Ship what an installed lfstress reads from the checkout otherwise:
    scenarios/ (the built-in suite) as stress/scenarios, and the build tree a
    user's structure is compiled with (native/, plus the two stress/ modules
    build_cffi.py reads) as stress/_buildtree. An editable install reads the
    checkout directly (stress/scenario.py and stress/usercode.py find it)."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package = Path(self.build_lib) / "stress"
        # native/testonly: structures that break on purpose, built by the tests only
        skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", "*.o", "_lfs_*.c", "testonly")
        for source, target in ((HERE / "scenarios", package / "scenarios"),
                               (HERE / "native", package / "_buildtree" / "native")):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=skip)
        for name in ("_sourcehash.py", "_version.py"):
            (package / "_buildtree" / "stress").mkdir(parents=True, exist_ok=True)
            shutil.copy2(HERE / "stress" / name, package / "_buildtree" / "stress" / name)


setup(
    cffi_modules=["native/build_cffi.py:stepped", "native/build_cffi.py:free"],
    cmdclass={"build_py": build_py_with_scenarios},
)
