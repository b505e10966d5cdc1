"""Comparisons that teach: what differs, by how much, where, and a few values side by side.

Built on the idea of ``torch.testing.assert_close`` (tolerances chosen by dtype, here also by the
result's scale) but with messages
written for someone debugging a kernel: shape or dtype first, then NaN/inf counts, then the largest
absolute and relative errors with their index, the number of mismatches, and a short excerpt.
"""

from __future__ import annotations

import math

import torch

# (rtol, atol) by dtype. atol is relative to the result's scale (its largest finite magnitude, at
# least 1), so that near-zero entries of a large result do not fail on rounding. float64 is tight
# enough that computing in float32 (or through an op that works in float32 inside) and casting back
# fails, with room to spare for a correct kernel that sums in another order (about 1e-14).
DEFAULT_TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-9, 1e-10),
}


def tolerances(dtype: torch.dtype, loose: float = 1.0) -> tuple[float, float]:
    """(rtol, atol at scale 1) for ``dtype``, scaled by ``loose`` for kernels that reorder long sums."""
    rtol, atol = DEFAULT_TOLERANCES.get(dtype, (0.0, 0.0))
    return rtol * loose, atol * loose


def _scale(e: torch.Tensor) -> float:
    finite = e[torch.isfinite(e)]
    return max(1.0, float(finite.abs().max())) if finite.numel() else 1.0


def _index(flat_index: int, shape: torch.Size) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        out.append(flat_index % size)
        flat_index //= size
    return tuple(reversed(out))


def _fmt(x: float, dtype: torch.dtype = torch.float64) -> str:
    """Enough digits to tell two values of ``dtype`` apart: 17 for float64, 9 for float32."""
    digits = {torch.float64: 17, torch.float32: 9, torch.float16: 5, torch.bfloat16: 4}.get(dtype, 9)
    return f"{x:.{digits}g}"


def _check_kind(actual, expected: torch.Tensor, name: str) -> torch.Tensor:
    if not isinstance(actual, torch.Tensor):
        raise AssertionError(f"{name}: expected a tensor of shape {list(expected.shape)} and dtype {expected.dtype}, "
                             f"got {type(actual).__name__}")
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: shape {list(actual.shape)}, expected {list(expected.shape)}")
    if actual.dtype != expected.dtype:
        raise AssertionError(f"{name}: dtype {actual.dtype}, expected {expected.dtype}")
    return actual


def assert_close(actual, expected: torch.Tensor, *, name: str = "output", rtol: float | None = None,
                 atol: float | None = None, loose: float = 1.0, context: str = "") -> None:
    """Fail with a teaching message unless ``actual`` matches ``expected`` in shape, dtype and value."""
    _check_kind(actual, expected, name)
    if not expected.is_floating_point() and not expected.is_complex():
        assert_equal(actual, expected, name=name, context=context)
        return
    d_rtol, d_atol = tolerances(expected.dtype, loose)
    a, e = actual.detach().to("cpu", torch.float64), expected.detach().to("cpu", torch.float64)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol * _scale(e) if atol is None else atol
    problems = []
    a_nan, e_nan = torch.isnan(a), torch.isnan(e)
    a_inf, e_inf = torch.isinf(a), torch.isinf(e)
    if (a_nan & ~e_nan).any():
        problems.append(f"{int((a_nan & ~e_nan).sum())} NaN value(s) where finite values were expected "
                        f"(first at index {_index(int((a_nan & ~e_nan).flatten().nonzero()[0]), a.shape)})")
    if (a_inf & ~e_inf).any():
        problems.append(f"{int((a_inf & ~e_inf).sum())} inf value(s) where finite values were expected")
    both_same_special = (a_nan & e_nan) | (a_inf & e_inf & (a == e))
    diff = (a - e).abs()
    diff = torch.where(both_same_special, torch.zeros_like(diff), diff)
    diff = torch.nan_to_num(diff, nan=math.inf)
    allowed = atol + rtol * e.abs().nan_to_num(posinf=0.0, neginf=0.0)
    bad = diff > allowed
    if not bad.any() and not problems:
        return
    lines = [f"{name}: values differ{(' ' + context) if context else ''}"] + [f"  {p}" for p in problems]
    if bad.any():
        flat_diff = diff.flatten()
        worst = int(torch.argmax(flat_diff))
        rel = (diff / e.abs().clamp_min(1e-300)).flatten()
        rel = torch.where(bad.flatten(), rel, torch.zeros_like(rel))
        worst_rel = int(torch.argmax(rel))
        lines.append(f"  mismatched elements: {int(bad.sum())} / {bad.numel()} "
                     f"({100.0 * float(bad.sum()) / bad.numel():.1f}%)")
        dtype = expected.dtype
        lines.append(f"  greatest absolute difference: {float(flat_diff[worst]):.3g} at index "
                     f"{_index(worst, a.shape)} (got {_fmt(float(a.flatten()[worst]), dtype)}, "
                     f"expected {_fmt(float(e.flatten()[worst]), dtype)}; allowed {float(allowed.flatten()[worst]):.3g})")
        lines.append(f"  greatest relative difference: {float(rel[worst_rel]):.3g} at index {_index(worst_rel, a.shape)}")
        lines.append(f"  tolerance: rtol={rtol:g}, atol={atol:g} ({str(dtype).removeprefix('torch.')})")
        if dtype == torch.float64 and float(rel[worst_rel]) > 1e-9 and float(rel[worst_rel]) < 1e-5:
            lines.append("  (an error of this size in float64 usually means the work was done in float32)")
        lines.append(_excerpt(a, e, bad, dtype))
    raise AssertionError("\n".join(lines))


def _excerpt(a: torch.Tensor, e: torch.Tensor, bad: torch.Tensor, dtype: torch.dtype, count: int = 4) -> str:
    idx = bad.flatten().nonzero().flatten()[:count].tolist()
    pairs = ", ".join(f"{_index(i, a.shape)}: {_fmt(float(a.flatten()[i]), dtype)} vs "
                      f"{_fmt(float(e.flatten()[i]), dtype)}" for i in idx)
    return f"  first mismatches (got vs expected): {pairs}"


def assert_equal(actual, expected: torch.Tensor, *, name: str = "output", context: str = "") -> None:
    """Exact comparison for integer and boolean results."""
    _check_kind(actual, expected, name)
    if torch.equal(actual.cpu(), expected.cpu()):
        return
    bad = (actual.cpu() != expected.cpu())
    flat = bad.flatten().nonzero().flatten()
    first = int(flat[0])
    a, e = actual.cpu().flatten(), expected.cpu().flatten()
    shown = ", ".join(f"{_index(int(i), actual.shape)}: {a[int(i)].item()} vs {e[int(i)].item()}" for i in flat[:5])
    raise AssertionError(
        f"{name}: {int(bad.sum())} of {bad.numel()} elements differ{(' ' + context) if context else ''}; first at index "
        f"{_index(first, actual.shape)} (got {a[first].item()}, expected {e[first].item()})\n"
        f"  first mismatches (got vs expected): {shown}")


def assert_number(actual, expected: float, *, name: str = "result", rel: float = 1e-9, abs_tol: float = 0.0,
                  integer: bool = False, context: str = "") -> None:
    """A Python number (not a 0-dim tensor), within ``rel``/``abs_tol`` of ``expected``; exact when ``integer``."""
    if context:
        name = f"{name} {context}"
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        hint = " (a 0-dim tensor: return .item())" if isinstance(actual, torch.Tensor) else ""
        raise AssertionError(f"{name}: expected a Python {'int' if integer else 'number'}, got {type(actual).__name__}{hint}")
    if integer:
        if not isinstance(actual, int):
            raise AssertionError(f"{name}: expected an int, got {type(actual).__name__} {actual!r}")
        if actual != expected:
            raise AssertionError(f"{name}: got {actual}, expected {expected}")
        return
    if not math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_tol):
        raise AssertionError(f"{name}: got {actual!r}, expected {expected!r} "
                             f"(difference {abs(actual - expected):.3g}, allowed rel {rel:g} / abs {abs_tol:g})")
