#!/usr/bin/python3
# Copied unchanged (but for this comment) from the project's own harness, /work/shared/anchors/torch_supernet_step.py
# (see its README there), so that the GPU check can run it where the checkout has no shared/ folder.
"""CPU timing harness for the Auto-DeepLab search supernet of the public PyTorch
reimplementation github.com/NoamRosenberg/autodeeplab (class AutoDeeplab in
auto_deeplab.py, cells in cell_level_search.py).

The harness holds no copy of the reference code: it imports it from the path given
by --ref or by the environment variable AUTODEEPLAB_REF (a work tree of that repo).

Only two shims are applied, both in this process and both needed because this
machine has a CPU-only torch:
  * `modeling.modules` (a CUDA extension, InPlaceABNSync, compiled at import time
    with nvcc) is replaced by a stub module. The search supernet never constructs
    it (use_ABN=False everywhere in the search path); the stub raises if it is used.
  * AutoDeeplab.forward calls `torch.randn(num_layers, 4, 3).cuda()`; when CUDA is
    unavailable Tensor.cuda is made a no-op returning the tensor itself.

Modes:
  --crop N     time (a) forward, (b) forward+backward, (c) one first-order bilevel
               iteration at batch --batch, crop NxN; one crop per process so that
               ru_maxrss is a per-crop peak. Prints a JSON object, optionally --json-out.
  --micro      3x3 conv microbenchmark (batch 2, 64x64, 32->32) + a 1024^3 matmul.

Usage:
  AUTODEEPLAB_REF=$AUTODEEPLAB_REF /usr/bin/python3 torch_supernet_step.py --crop 64
  /usr/bin/python3 torch_supernet_step.py --micro
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
import types


def maxrss_mib():
    # Linux: ru_maxrss is in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cur_rss_mib():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float('nan')


def _sys_busy_s():
    # system-wide busy CPU seconds from /proc/stat (USER_HZ ticks)
    try:
        with open('/proc/stat') as f:
            v = [int(x) for x in f.readline().split()[1:]]
        hz = os.sysconf('SC_CLK_TCK')
        # user nice system idle iowait irq softirq steal
        return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / float(hz)
    except Exception:
        return float('nan')


def _self_cpu_s():
    t = os.times()
    return t.user + t.system


def timeit(fn, warmup, iters, label=None, log=None):
    """min/median wall time; per iteration also this process's CPU seconds and the
    number of cores kept busy by OTHER processes (contention indicator)."""
    for i in range(warmup):
        t0 = time.perf_counter()
        fn()
        if log:
            log('%s warmup %d: %.3f s' % (label, i, time.perf_counter() - t0))
    ts, cpu, other = [], [], []
    for i in range(iters):
        b0, c0 = _sys_busy_s(), _self_cpu_s()
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        dc = _self_cpu_s() - c0
        ob = ((_sys_busy_s() - b0) - dc) / dt
        ts.append(dt)
        cpu.append(dc)
        other.append(ob)
        if log:
            log('%s iter %d: %.3f s (self cpu %.2f s, other procs %.2f cores)' % (label, i, dt, dc, ob))
    return {
        'min_s': min(ts),
        'median_s': statistics.median(ts),
        'mean_s': statistics.mean(ts),
        'max_s': max(ts),
        'iters': iters,
        'warmup': warmup,
        'all_s': [round(t, 4) for t in ts],
        'self_cpu_s': [round(c, 3) for c in cpu],
        'other_procs_busy_cores': [round(o, 2) for o in other],
    }


def torch_info(torch):
    info = {
        'torch_version': torch.__version__,
        'python': sys.version.split()[0],
        'python_executable': sys.executable,
        'num_threads': torch.get_num_threads(),
        'num_interop_threads': torch.get_num_interop_threads(),
        'mkldnn_available': bool(torch.backends.mkldnn.is_available()),
        'mkldnn_enabled': bool(torch.backends.mkldnn.enabled),
        'mkl_available': bool(torch.backends.mkl.is_available()),
        'openmp_available': bool(torch.backends.openmp.is_available()),
        'cuda_available': bool(torch.cuda.is_available()),
        'machine': platform.machine(),
        'cpu_count': os.cpu_count(),
    }
    info['env'] = {k: v for k, v in os.environ.items()
                   if k.startswith(('MALLOC_', 'OMP_', 'GOMP_', 'KMP_', 'DNNL_', 'ONEDNN_', 'MKL'))
                   or k in ('GLIBC_TUNABLES', 'LD_PRELOAD')}
    try:
        info['cpu_capability'] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # not in every version
        pass
    cfg = torch.__config__.show()
    for line in cfg.splitlines():
        if 'MKL-DNN' in line or 'oneDNN' in line or 'CPU capability' in line or 'BLAS_INFO' in line:
            info.setdefault('config_lines', []).append(line.strip()[:200])
    return info


def import_reference(ref):
    import torch
    if not ref or not os.path.isfile(os.path.join(ref, 'auto_deeplab.py')):
        raise SystemExit('reference work tree not found: pass --ref or set AUTODEEPLAB_REF '
                         '(a directory holding auto_deeplab.py), got %r' % (ref,))
    sys.path.insert(0, ref)

    # Shim 1: stub the CUDA-only in-place ABN extension (compiled with nvcc on import).
    class _NoABN(object):
        def __init__(self, *a, **k):
            raise RuntimeError('InPlaceABNSync stub: the CUDA extension is not available on CPU')
    import modeling  # the reference's package (empty __init__)
    stub = types.ModuleType('modeling.modules')
    stub.InPlaceABNSync = _NoABN
    stub.InPlaceABN = _NoABN
    stub.ABN = _NoABN
    sys.modules['modeling.modules'] = stub
    modeling.modules = stub

    # Shim 2: forward() does torch.randn(...).cuda(); make it a no-op without CUDA.
    if not torch.cuda.is_available():
        torch.Tensor.cuda = lambda self, *a, **k: self

    import auto_deeplab
    from utils.loss import SegmentationLosses
    return auto_deeplab, SegmentationLosses


def run_supernet(args, log, res):
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    auto_deeplab, SegmentationLosses = import_reference(args.ref)

    res.update({'mode': 'supernet', 'crop': args.crop, 'batch': args.batch, 'info': torch_info(torch)})
    res['ref'] = os.path.abspath(args.ref)
    res['ref_commit'] = args.ref_commit

    # criterion exactly as train_autodeeplab.py builds it (loss_type 'ce', weight None):
    # nn.CrossEntropyLoss(ignore_index=255, reduction='mean')
    criterion = SegmentationLosses(weight=None, cuda=False).build_loss(mode='ce')

    t0 = time.perf_counter()
    model = auto_deeplab.AutoDeeplab(num_classes=args.num_classes, num_layers=args.num_layers,
                                     criterion=criterion,
                                     filter_multiplier=args.filter_multiplier,
                                     block_multiplier=args.block_multiplier, step=args.step)
    res['build_s'] = time.perf_counter() - t0
    dev = torch.device(args.device)
    model = model.to(dev)
    model.train()

    wparams = model.weight_parameters()
    aparams = model.arch_parameters()
    res['params'] = {
        'weights': int(sum(p.numel() for p in wparams)),
        'weight_tensors': len(wparams),
        'arch': int(sum(p.numel() for p in aparams)),
        'arch_shapes': [list(p.shape) for p in aparams],
        'buffers': int(sum(b.numel() for b in model.buffers())),
    }
    n_conv = sum(1 for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    n_bn = sum(1 for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    n_mixed = sum(1 for m in model.modules() if type(m).__name__ == 'MixedOp')
    res['modules'] = {'conv2d': n_conv, 'batchnorm2d': n_bn, 'mixed_ops': n_mixed,
                      'cells': len(model.cells)}
    res['rss_after_build_mib'] = cur_rss_mib()

    # Optimizers exactly as train_autodeeplab.py (search_args defaults)
    opt_w = torch.optim.SGD(wparams, lr=0.025, momentum=0.9, weight_decay=3e-4)
    opt_a = torch.optim.Adam(aparams, lr=3e-3, betas=(0.9, 0.999), weight_decay=1e-3)

    g = torch.Generator().manual_seed(1)
    B, H = args.batch, args.crop
    xA = torch.randn(B, 3, H, H, generator=g)
    yA = torch.randint(0, args.num_classes, (B, H, H), generator=g)
    xB = torch.randn(B, 3, H, H, generator=g)
    yB = torch.randint(0, args.num_classes, (B, H, H), generator=g)
    xA, yA, xB, yB = (t.to(dev) for t in (xA, yA, xB, yB))

    losses = {}

    def fwd_nograd():
        with torch.no_grad():
            out = model(xA)
        losses['fwd_out_shape'] = list(out.shape)

    def fwd_grad():
        out = model(xA)  # builds the autograd graph, then drops it
        del out

    def fwd_bwd():
        # weight step of train_autodeeplab.py without the optimizer update:
        # optimizer.zero_grad(); loss.backward()  (grads flow to weights AND alphas/betas,
        # since the arch params require grad, exactly as in the reference)
        opt_w.zero_grad()
        loss = criterion(model(xA), yA)
        loss.backward()
        losses['fwd_bwd'] = float(loss)

    def fwd_bwd_weights_only():
        # same, but gradients requested w.r.t. the weights only
        loss = criterion(model(xA), yA)
        grads = torch.autograd.grad(loss, wparams, allow_unused=True)
        del grads
        losses['fwd_bwd_w'] = float(loss)

    def bilevel():
        # one iteration of Trainer.training() in train_autodeeplab.py (epoch >= alpha_epoch):
        opt_w.zero_grad()
        loss = criterion(model(xA), yA)
        loss.backward()
        opt_w.step()
        opt_a.zero_grad()
        arch_loss = criterion(model(xB), yB)
        arch_loss.backward()
        opt_a.step()
        losses['bilevel_w'] = float(loss)
        losses['bilevel_a'] = float(arch_loss)

    W, N = args.warmup, args.iters
    phases = set(args.phases.split(','))
    if args.skip_fwd_grad:
        phases.discard('a2')
    if args.skip_weights_only:
        phases.discard('b2')
    timings = res['timings'] = {}
    rss = res['peak_rss_mib'] = {}
    res['losses_last'] = losses
    res['phases'] = sorted(phases)
    if 'a' in phases:
        timings['a_forward_nograd_train_mode'] = timeit(fwd_nograd, W, N, 'fwd_nograd', log)
        rss['after_a_forward_nograd'] = maxrss_mib()
    if 'a2' in phases:
        timings['a2_forward_with_autograd_graph'] = timeit(fwd_grad, W, N, 'fwd_grad', log)
        rss['after_a2_forward_grad'] = maxrss_mib()
    if 'b' in phases:
        timings['b_forward_backward_ref_style'] = timeit(fwd_bwd, W, N, 'fwd_bwd', log)
        rss['after_b_fwd_bwd'] = maxrss_mib()
    if 'b2' in phases:
        timings['b2_forward_backward_weights_only'] = timeit(fwd_bwd_weights_only, W, N, 'fwd_bwd_w', log)
        rss['after_b2_fwd_bwd_w'] = maxrss_mib()
    if 'c' in phases:
        timings['c_bilevel_first_order_iteration'] = timeit(bilevel, W, N, 'bilevel', log)
        rss['after_c_bilevel'] = maxrss_mib()

    if args.profile:
        # one forward+backward under the profiler: which conv kernels run, how many ops
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            opt_w.zero_grad()
            loss = criterion(model(xA), yA)
            loss.backward()
        ka = prof.key_averages()
        rows = sorted(((e.key, e.count, e.self_cpu_time_total / 1e3) for e in ka),
                      key=lambda r: -r[2])
        res['profile_fwd_bwd'] = {
            'total_op_events': int(sum(e.count for e in ka)),
            'conv_kernels': {k: c for k, c, _ in rows if 'conv' in k.lower()},
            'top_self_cpu_ms': [[k, c, round(t, 1)] for k, c, t in rows[:25]],
        }


def run_micro(args, log):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    res = {'mode': 'micro', 'info': torch_info(torch)}
    B, H, W, C = 2, 64, 64, 32
    flops_fwd = 2.0 * B * H * W * C * C * 9  # multiply-add = 2 flops; 'same' padding
    res['conv'] = {'shape': 'x[2,32,64,64] (NHWC-equivalent [2,64,64,32]), w[32,32,3,3], stride 1, pad 1, no bias',
                   'flops_forward': flops_fwd,
                   'flops_fwd_bwd_nominal': 3 * flops_fwd}
    w = torch.randn(C, C, 3, 3)
    for fmt_name, fmt in (('nchw_contiguous', torch.contiguous_format), ('channels_last_nhwc', torch.channels_last)):
        x = torch.randn(B, C, H, W).contiguous(memory_format=fmt)
        wf = w.contiguous(memory_format=fmt)

        def f():
            with torch.no_grad():
                F.conv2d(x, wf, None, 1, 1)
        t = timeit(f, 20, args.micro_iters)
        for k in ('all_s', 'self_cpu_s'):
            t.pop(k)
        oc = t.pop('other_procs_busy_cores')
        t['other_procs_busy_cores_median'] = statistics.median(oc)
        t['gflops_at_min'] = flops_fwd / t['min_s'] / 1e9
        t['gflops_at_median'] = flops_fwd / t['median_s'] / 1e9
        res['conv']['forward_' + fmt_name] = t

        xg = x.clone().requires_grad_(True)
        wg = wf.clone().requires_grad_(True)
        gy = torch.randn(B, C, H, W).contiguous(memory_format=fmt)

        def fb():
            y = F.conv2d(xg, wg, None, 1, 1)
            dx, dw = torch.autograd.grad(y, (xg, wg), gy)
        t = timeit(fb, 10, args.micro_iters)
        for k in ('all_s', 'self_cpu_s'):
            t.pop(k)
        oc = t.pop('other_procs_busy_cores')
        t['other_procs_busy_cores_median'] = statistics.median(oc)
        t['gflops_nominal_at_min'] = 3 * flops_fwd / t['min_s'] / 1e9
        t['gflops_nominal_at_median'] = 3 * flops_fwd / t['median_s'] / 1e9
        res['conv']['fwd_bwd_dx_dw_' + fmt_name] = t

    # which kernel does that conv use?
    from torch.profiler import profile, ProfilerActivity
    x = torch.randn(B, C, H, W)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        xg = x.clone().requires_grad_(True)
        wg = w.clone().requires_grad_(True)
        y = F.conv2d(xg, wg, None, 1, 1)
        y.sum().backward()
    res['conv']['kernels'] = sorted({e.key for e in prof.key_averages() if 'conv' in e.key.lower()})

    # context: large sgemm peak
    n = 1024
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    t = timeit(lambda: torch.mm(a, b), 3, 20)
    for k in ('all_s', 'self_cpu_s', 'other_procs_busy_cores'):
        t.pop(k)
    t['gflops_at_min'] = 2.0 * n ** 3 / t['min_s'] / 1e9
    res['matmul_1024'] = t
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--ref', default=os.environ.get('AUTODEEPLAB_REF'))
    ap.add_argument('--ref-commit', default=os.environ.get('AUTODEEPLAB_REF_COMMIT'))
    ap.add_argument('--crop', type=int)
    ap.add_argument('--micro', action='store_true')
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (GPU: times include a synchronise)")
    ap.add_argument('--num-layers', type=int, default=12)
    ap.add_argument('--filter-multiplier', type=int, default=8)
    ap.add_argument('--block-multiplier', type=int, default=5)
    ap.add_argument('--step', type=int, default=5)
    ap.add_argument('--num-classes', type=int, default=19)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--iters', type=int, default=5)
    ap.add_argument('--micro-iters', type=int, default=200)
    ap.add_argument('--phases', default='a,a2,b,b2,c',
                    help='a: fwd no_grad, a2: fwd with graph, b: fwd+bwd (reference style), '
                         'b2: fwd+bwd weights only, c: first-order bilevel iteration')
    ap.add_argument('--skip-fwd-grad', action='store_true')
    ap.add_argument('--skip-weights-only', action='store_true')
    ap.add_argument('--profile', action='store_true')
    ap.add_argument('--mem-limit-gib', type=float, default=0,
                    help='RLIMIT_AS cap so an oversize crop fails with an error instead of the OOM killer')
    ap.add_argument('--json-out')
    ap.add_argument('--quiet', action='store_true')
    args = ap.parse_args()

    if args.mem_limit_gib > 0:
        lim = int(args.mem_limit_gib * 1024 ** 3)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))

    def log(msg):
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    load0 = open('/proc/loadavg').read().split()[:3]
    res = {}
    try:
        if args.micro:
            res = run_micro(args, log)
        elif args.crop:
            run_supernet(args, log, res)  # fills res progressively (kept on failure)
        else:
            ap.error('give --crop N or --micro')
        res['ok'] = True
    except (RuntimeError, MemoryError) as e:
        res['ok'] = False
        res['error'] = '%s: %s' % (type(e).__name__, str(e)[:500])
        res['crop'] = args.crop
        res['peak_rss_mib_at_error'] = maxrss_mib()
    res['wall_total_s'] = time.perf_counter() - t0
    res['loadavg_start_end'] = [load0, open('/proc/loadavg').read().split()[:3]]
    out = json.dumps(res, indent=1)
    print(out)
    if args.json_out:
        with open(args.json_out, 'w') as f:
            f.write(out + '\n')


if __name__ == '__main__':
    main()
