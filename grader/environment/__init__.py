"""The offline course environment that student code runs in.

* `site/`     - the folder put on student processes' PYTHONPATH: the Sedna-compatible layer,
                `cifar100_resnets`, `edge_ai_w5_sedna_configuration` and the course Plato YAML.
* `data.py`   - CIFAR-100: a cached synthetic copy in the real pickle format, or the real files.
* `layout.py` - the per-run directory (`/kaggle/input` mapping) and the student environment.
* `preload.py` - what a warm fork server imports once, and what each fork calls first.

The grader itself never imports anything from `site/`.
"""
