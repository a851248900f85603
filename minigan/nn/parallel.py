"""``nn.DataParallel`` for scripts written for several GPUs: minigan runs on one device.

PyTorch's DCGAN tutorial wraps its networks with ``nn.DataParallel(net, list(range(ngpu)))``
to split each batch across GPUs. minigan computes on a single device (the CPU, or one GPU
through CuPy), so the wrapper here splits nothing: it holds the network as ``.module`` and
calls it. It is still a real wrapper, as PyTorch's is, so a script that reads ``net.module``
or saves ``net.state_dict()`` (whose keys then start with ``module.``) works unchanged.
"""
from __future__ import annotations

from .module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """Wrap ``module`` and run it on minigan's one device.

    ``device_ids``, ``output_device`` and ``dim`` are accepted for PyTorch's signature and
    kept as attributes; they change nothing, because there is no batch to split across
    devices. Move the network with ``.to(device)`` as usual.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel wraps an nn.Module, not {type(module).__name__}")
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device, self.dim = output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
