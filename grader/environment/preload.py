"""What a warm fork server imports once, and what each process forked from it calls first.

Course knowledge for `grader.sandbox.hosts.ForkServerHost`, which knows nothing of the course:

* `CHECK_STACK`: the course stack the graded cells import (check workers need it). The
  configuration module comes first: Plato reads its YAML on import.
* `KERNEL_EXTRAS`: what notebook kernels forked from the same server need besides, including
  what a kernel would otherwise import while it starts (its debugger: ~0.15 s).
* `FORK_PRELOAD`: both, in that order.
* `AFTER_FORK`: "module:function" hooks each fork calls once it has its own working directory
  and environment: the course configuration points Plato at this process's aggregator address
  and YAML (a fork inherits the server's, configured when it was imported).
"""
from __future__ import annotations

CHECK_STACK = ("numpy", "edge_ai_w5_sedna_configuration", "torch", "torchvision",
               "torchvision.transforms", "PIL.Image", "imgaug.augmenters", "plato.config",
               "plato.trainers.basic", "plato.trainers.registry", "plato.clients.simple",
               "plato.clients.registry", "unittest.mock")

KERNEL_EXTRAS = ("matplotlib.pyplot", "matplotlib.backends.backend_agg", "nest_asyncio",
                 "cifar100_resnets", "ipykernel.kernelapp", "ipykernel.ipkernel",
                 "ipykernel.debugger", "IPython.core.completerlib")

FORK_PRELOAD = CHECK_STACK + KERNEL_EXTRAS

AFTER_FORK = ("edge_ai_w5_sedna_configuration:configure",)
