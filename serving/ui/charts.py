"""Server-side charts as plain SVG geometry (the template draws it): no chart library, no script.

Each chart is a fixed-size box; points are placed by index along x (one per day with feedback)
and by value along y, so the template only writes `<polyline>` and `<rect>` elements."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT, PAD = 360, 120, 24


@dataclass
class Series:
    version: int
    days: list[str] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)  # 0..1 per day
    volume: list[int] = field(default_factory=list)  # feedback rows per day

    def line(self) -> str:
        """The accuracy polyline's points ("x,y x,y ...") on a 0..1 axis."""
        return " ".join(f"{_x(i, len(self.days)):.1f},{_y(a, 1.0):.1f}" for i, a in enumerate(self.accuracy))

    def dots(self) -> list[dict[str, float]]:
        """A marker per day (a single day draws no line)."""
        return [{"x": _x(i, len(self.days)), "y": _y(a, 1.0)} for i, a in enumerate(self.accuracy)]

    def bars(self) -> list[dict[str, float]]:
        """One bar per day: x, y, width, height, with the tallest day at full height."""
        top = max(self.volume, default=0) or 1
        width = max((WIDTH - 2 * PAD) / max(len(self.volume), 1) - 4, 2)
        return [
            {"x": _x(i, len(self.volume)) - width / 2, "y": _y(n, top), "w": width, "h": HEIGHT - PAD - _y(n, top)}
            for i, n in enumerate(self.volume)
        ]


def _x(index: int, count: int) -> float:
    if count <= 1:
        return WIDTH / 2
    return PAD + index * (WIDTH - 2 * PAD) / (count - 1)


def _y(value: float, top: float) -> float:
    return HEIGHT - PAD - (value / top) * (HEIGHT - 2 * PAD) if top else HEIGHT - PAD
