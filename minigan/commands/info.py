"""Show the version, the array backend, the device and the BLAS library in use (--check-gpu:
test the GPU path on this machine)."""
from __future__ import annotations


def add_arguments(parser):
    parser.add_argument("--device", default=None, help="device to describe (cpu or cuda)")
    parser.add_argument("--check-gpu", action="store_true",
                        help="run the GPU check: the device tests, a DCGAN iteration timed "
                        "(against PyTorch when installed) and one short lesson, on --device "
                        "(default cuda)")


def run(args):
    import platform

    import minigan
    from minigan import backend
    np = backend.np
    if args.check_gpu:
        from .gpu_check import check
        return check(args.device or "cuda")
    dev = backend.Device(args.device) if args.device else backend.default_device()
    print(f"minigan {minigan.__version__} (Python {platform.python_version()})")
    print(f"numpy {np.__version__}; default dtype {backend.get_default_dtype()}")
    print(f"device: {dev}")
    if dev.type == "cuda":
        cp = dev.xp
        props = cp.cuda.runtime.getDeviceProperties(dev.index)
        print(f"cupy {cp.__version__}; GPU {props['name'].decode()}")
    else:
        print("cupy: " + ("available" if backend.cupy_available() else "not available "
                          "(pip install -e .[gpu] on a CUDA machine)"))
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        print(f"BLAS: {blas.get('name', '?')} {blas.get('version', '')}".rstrip())
    except Exception:  # older NumPy: no dict mode
        print("BLAS: see numpy.show_config()")
    from minigan import allocator
    print("allocator: " + ("glibc thresholds raised (MINIGAN_MALLOC_TUNING=0 turns it off)"
                           if allocator.applied() else "left as it is"))
    return 0
