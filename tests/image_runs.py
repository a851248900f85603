"""A helper the image-model tests share: a run stopped and resumed ends where an
uninterrupted one does, bit for bit."""
import numpy as np

import minigan
from minigan import backend


def check_resume(model, data, settings, total, first, modules, tmp_path, size=28, seed=3):
    """Train ``model`` ``total`` steps straight, and ``first`` steps + save + resume for the
    rest in a fresh run; every parameter and buffer of ``modules`` (names in ``run.modules``,
    or callables run -> module) must be equal."""
    from minigan.experiments import images as I

    def config(steps):
        return I.runner._config(model, False, dict(settings, steps=steps), size=size)
    with backend.blas_threads(1):
        straight = I.MODELS[model](data, config(total), tmp_path / "a", seed=seed)
        straight.train_steps(total, progress=False)
        part = I.MODELS[model](data, config(total), tmp_path / "b", seed=seed)
        part.train_steps(first, progress=False)
        part.save()
        minigan.manual_seed(99)                       # a fresh process would start elsewhere
        resumed = I.MODELS[model](data, config(total - first), tmp_path / "b", seed=seed).resume()
        resumed.train_steps(total - first, progress=False)
    assert resumed.step == total
    for m in modules:
        a, b = (m(r) if callable(m) else r.modules[m] for r in (straight, resumed))
        for p, q in zip(list(a.parameters()) + list(a.buffers()),
                        list(b.parameters()) + list(b.buffers())):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
