"""The defaults of an execution, in one place.

The Python API (``Execution``, ``Target``, ``explore``), the CLI's options,
scenario files and replay tokens all take these. A token leaves out the
fields that equal them, and reads an absent field as them: tokens printed
earlier replay only while these stay as they are, so a change here needs a
new token version.
"""

CAPACITY = 16        # node pool slots
REUSE = "lifo"       # which free slot comes back first (structures.REUSE_POLICIES)
STEP_CAP = 10_000    # steps before an execution is ended as a livelock
