"""A walking person drawn by our own code, for the demo camera's "person entering a zone".

The project may not ship footage, and a flat silhouette is not a person to YOLOX-nano
(it scored ≤ 0.16). So the figure is drawn the way a detector trained on photographs
sees people: a jointed skeleton with realistic proportions in a walk cycle (legs and arms
swinging in opposition, knees bending), each body part a tapered capsule shaded like a
lit cylinder (distance-transform shading: bright along the middle, dark at the rim, a
little brighter at the top), low-frequency cloth folds, a skin-toned head with hair,
shoes, and a soft shadow on the ground. Everything is rendered at twice the size and
reduced, so edges are anti-aliased like a camera's.

The numbers of :data:`DEMO_LOOK` were found once, offline, by ``bench/person_search.py``
(an evolution strategy scored by the real YOLOX-nano person score on demo frames): in
every demo frame where the person is fully in view YOLOX scores it 0.74–0.91 (the
tracker starts a track at 0.6); that script has the command and the history. Output is
deterministic: the same look, height, phase and seed give the same pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from analytics.plates_geometry import UInt8Image

BGR = tuple[int, int, int]
F32 = npt.NDArray[np.float32]
Pt = tuple[float, float]
SUPERSAMPLE = 2


@dataclass(frozen=True, slots=True)
class PersonLook:
    """Colours (BGR), proportions (fractions of the standing height) and gait.

    ``turn`` 0 is a side view, 1 a frontal one (limbs spread sideways, swing foreshortened);
    ``stride``/``arm_swing``/``knee`` are angles in radians; ``shade`` is how dark a part's
    rim is against its middle; ``folds`` the strength of the cloth texture.
    """

    skin: BGR = (120, 150, 200)
    hair: BGR = (25, 25, 30)
    shirt: BGR = (40, 60, 150)
    trousers: BGR = (70, 45, 35)
    shoes: BGR = (30, 30, 30)
    shoulder: float = 0.24
    hip: float = 0.17
    limb: float = 0.065
    head: float = 0.125
    torso: float = 0.30
    leg: float = 0.49
    turn: float = 0.4
    stride: float = 0.45
    arm_swing: float = 0.4
    knee: float = 0.5
    sleeve: float = 0.8
    shade: float = 0.45
    folds: float = 0.15


DEMO_LOOK = PersonLook(
    skin=(72, 106, 160), hair=(16, 17, 23), shirt=(21, 97, 25), trousers=(49, 10, 13),
    shoes=(52, 67, 90), shoulder=0.267, hip=0.155, limb=0.074, head=0.136, torso=0.312,
    leg=0.507, turn=1.0, stride=0.289, arm_swing=0.333, knee=0.461, sleeve=0.639,
    shade=0.606, folds=0.049)
"""The look the demo uses (found by ``bench/person_search.py``)."""


@dataclass(frozen=True, slots=True)
class _Part:
    """One capsule: from ``a`` to ``b`` with widths ``wa``/``wb``, a colour and textured
    (cloth) or not (skin, hair, shoes)."""

    a: Pt
    b: Pt
    wa: float
    wb: float
    color: BGR
    cloth: bool = False
    cap: float = 1.0
    """End-cap radius as a fraction of the half-width: 1 round (limbs), less is squarer
    (the torso: a round-ended torso reads as a blob, not shoulders and a hem)."""


def _limb(start: Pt, angle: float, length: float) -> Pt:
    """The end of a limb hanging from ``start`` turned ``angle`` from straight down
    (positive: forwards, towards +x)."""
    return start[0] + length * math.sin(angle), start[1] + length * math.cos(angle)


def _dim(color: BGR, by: float) -> BGR:
    return (round(color[0] * by), round(color[1] * by), round(color[2] * by))


def _leg(look: PersonLook, hip: Pt, swing: float, bend: float) -> tuple[Pt, Pt]:
    """Knee and ankle of one leg; the shin bends back by ``bend`` from the thigh."""
    half = look.leg / 2
    knee = _limb(hip, swing, half)
    return knee, _limb(knee, swing - bend, half)


def _side(look: PersonLook, phase: float, front: bool) -> tuple[list[_Part], list[_Part]]:
    """One side's leg (thigh, shin, shoe) and arm (forearm, sleeve, hand); the far side
    is shaded darker and its swing is the opposite of the near side's."""
    t, sway = look.turn, 1.0 - 0.7 * look.turn
    sign, dim = (1.0, 1.0) if front else (-1.0, 0.78)
    offset = math.pi if front else 0.0
    swing = -sign * look.stride * math.sin(phase) * sway
    bend = look.knee * max(0.0, math.sin(phase + 1.2 + offset))
    hip = (sign * 0.5 * t * look.hip, 0.0)
    knee, ankle = _leg(look, hip, swing, bend)
    w = look.limb
    trousers, shirt, skin = (_dim(c, dim) for c in (look.trousers, look.shirt, look.skin))
    leg = [_Part(hip, knee, w * 1.35, w * 1.05, trousers, True),
           _Part(knee, ankle, w * 1.05, w * 0.8, trousers, True),
           _Part(ankle, (ankle[0] + 0.06, ankle[1] + 0.01), w * 0.75, w * 0.7,
                 _dim(look.shoes, dim))]
    arm = look.leg * 0.34
    shoulder = (sign * 0.5 * t * look.shoulder, -look.torso)
    angle = -swing * look.arm_swing / max(look.stride, 1e-3)
    elbow = _limb(shoulder, angle, arm * 0.5)
    wrist = _limb(elbow, angle + 0.35, arm * 0.48)
    reach = (look.sleeve - 0.5) * 2  # how far down the forearm the sleeve goes
    cut = (elbow[0] + (wrist[0] - elbow[0]) * reach, elbow[1] + (wrist[1] - elbow[1]) * reach)
    arms = [_Part(elbow, wrist, w * 0.8, w * 0.65, skin),
            _Part(shoulder, elbow, w * 1.0, w * 0.85, shirt, True),
            _Part(elbow, cut, w * 0.85, w * 0.8, shirt, True),
            _Part(wrist, _limb(wrist, angle + 0.35, 0.035), w * 0.7, w * 0.6, skin)]
    return leg, arms


def _trunk(look: PersonLook) -> tuple[list[_Part], list[_Part]]:
    """Torso (shirt) and neck, head and hair; the face looks towards +x."""
    top = -look.torso
    width = look.shoulder * (0.55 + 0.45 * look.turn)
    hips_w = look.hip * (0.6 + 0.4 * look.turn)
    torso = [_Part((0.0, 0.04), (0.0, top * 0.55), hips_w, width * 0.85, look.shirt, True,
                   0.3),
             _Part((0.0, top * 0.55), (0.0, top + 0.03), width * 0.85, width, look.shirt,
                   True, 0.45)]
    neck_top = top - 0.045
    hx, hy, h = 0.01, neck_top - look.head * 0.45, look.head
    head = [_Part((0.0, top), (0.005, neck_top), 0.05, 0.045, look.skin),
            _Part((hx, hy + h * 0.18), (hx, hy - h * 0.18), h * 0.62, h * 0.66, look.skin),
            _Part((hx - h * 0.22, hy + h * 0.02), (hx - h * 0.02, hy - h * 0.26),
                  h * 0.5, h * 0.58, look.hair)]
    return torso, head


def skeleton_parts(look: PersonLook, phase: float) -> list[_Part]:
    """The body parts, back to front, in units of the standing height with the hips at
    (0, 0) and y pointing down; ``phase`` is the walk cycle angle (radians)."""
    far_leg, far_arm = _side(look, phase, front=False)
    near_leg, near_arm = _side(look, phase, front=True)
    torso, head = _trunk(look)
    return far_leg + far_arm + torso + near_leg + head + near_arm


@dataclass(frozen=True, slots=True)
class Sprite:
    """A rendered figure: colours, coverage (0..1) and where its feet touch the ground
    (``foot``, in sprite pixels)."""

    image: F32
    alpha: F32
    foot: tuple[int, int]


def _capsule_mask(shape: tuple[int, int], part: _Part, scale: float, origin: Pt) -> UInt8Image:
    """The part as a filled tapered capsule (255 inside) on a canvas of ``shape``."""
    mask = np.zeros(shape, dtype=np.uint8)
    ax, ay = (part.a[0] - origin[0]) * scale, (part.a[1] - origin[1]) * scale
    bx, by = (part.b[0] - origin[0]) * scale, (part.b[1] - origin[1]) * scale
    ra, rb = part.wa * scale / 2, part.wb * scale / 2
    dx, dy = bx - ax, by - ay
    norm = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / norm, dx / norm
    poly = np.array([(ax + nx * ra, ay + ny * ra), (bx + nx * rb, by + ny * rb),
                     (bx - nx * rb, by - ny * rb), (ax - nx * ra, ay - ny * ra)])
    cv2.fillPoly(mask, [np.round(poly * 4).astype(np.int32)], 255, cv2.LINE_8, 2)
    for (cx, cy), r in (((ax, ay), ra), ((bx, by), rb)):
        cv2.circle(mask, (round(cx * 4), round(cy * 4)), max(1, round(r * part.cap * 4)),
                   255, -1, cv2.LINE_8, 2)
    return mask


def _bounds(parts: list[_Part]) -> tuple[float, float, float, float]:
    """Left, top, right, bottom of every capsule, in height units."""
    xs = [v for p in parts for v in (p.a[0] - p.wa / 2, p.b[0] - p.wb / 2,
                                     p.a[0] + p.wa / 2, p.b[0] + p.wb / 2)]
    ys = [v for p in parts for v in (p.a[1] - p.wa / 2, p.b[1] - p.wb / 2,
                                     p.a[1] + p.wa / 2, p.b[1] + p.wb / 2)]
    return min(xs), min(ys), max(xs), max(ys)


def _folds(shape: tuple[int, int], seed: int) -> F32:
    """Smooth noise around 0 (±1): cloth folds and creases, the same for the same seed."""
    rng = np.random.default_rng(seed)
    small = rng.standard_normal((max(2, shape[0] // 12), max(2, shape[1] // 12)))
    noise = cv2.resize(small.astype(np.float32), (shape[1], shape[0]),
                       interpolation=cv2.INTER_CUBIC)
    return np.clip(noise, -1.5, 1.5).astype(np.float32) / 1.5


@lru_cache(maxsize=64)
def render_person(look: PersonLook, height: int, phase: float, seed: int = 0) -> Sprite:
    """The figure ``height`` pixels tall at walk ``phase``, facing +x (cached, read-only)."""
    parts = skeleton_parts(look, phase)
    left, top, right, bottom = _bounds(parts)
    scale = height * SUPERSAMPLE / (bottom - top)
    shape = (math.ceil((bottom - top) * scale) + 2, math.ceil((right - left) * scale) + 2)
    image = np.zeros((*shape, 3), dtype=np.float32)
    alpha = np.zeros(shape, dtype=np.float32)
    folds = _folds(shape, seed)
    light = np.linspace(1.12, 0.88, shape[0], dtype=np.float32)[:, None]
    for part in parts:
        mask = _capsule_mask(shape, part, scale, (left, top))
        inside = mask > 0
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
        rim = np.sqrt(dist / max(float(dist.max()), 1e-6))
        shade = (1.0 - look.shade) + look.shade * rim
        if part.cloth:
            shade = shade * (1.0 + look.folds * folds)
        shade = shade * light
        color = np.array(part.color, dtype=np.float32)
        image[inside] = np.clip(color[None, :] * shade[inside][:, None], 0, 255)
        alpha[inside] = 1.0
    size = (round(shape[1] / SUPERSAMPLE), round(shape[0] / SUPERSAMPLE))
    small = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.float32)
    cover = np.asarray(cv2.resize(alpha, size, interpolation=cv2.INTER_AREA), np.float32)
    foot = (round(-left * scale / SUPERSAMPLE), size[1] - 1)
    small.flags.writeable = False
    cover.flags.writeable = False
    return Sprite(small, cover, foot)


def draw_person(frame: UInt8Image, sprite: Sprite, foot: tuple[int, int],
                facing: int = 1) -> tuple[int, int, int, int]:
    """Blend ``sprite`` into ``frame`` (in place) with its feet at ``foot`` and a soft
    shadow under them; ``facing`` -1 mirrors it. The figure's box, clipped to the frame."""
    image, alpha = sprite.image, sprite.alpha
    fx = sprite.foot[0]
    if facing < 0:
        image, alpha, fx = image[:, ::-1], alpha[:, ::-1], image.shape[1] - 1 - fx
    h, w = alpha.shape
    left, top = foot[0] - fx, foot[1] - h + 1
    _shadow(frame, foot, h)
    fh, fw = frame.shape[:2]
    x1, y1, x2, y2 = max(0, left), max(0, top), min(fw, left + w), min(fh, top + h)
    if x2 <= x1 or y2 <= y1:
        return (0, 0, 0, 0)
    a = alpha[y1 - top: y2 - top, x1 - left: x2 - left, None]
    src = image[y1 - top: y2 - top, x1 - left: x2 - left]
    dst = frame[y1:y2, x1:x2].astype(np.float32)
    frame[y1:y2, x1:x2] = np.clip(src * a + dst * (1.0 - a), 0, 255).astype(np.uint8)
    return (x1, y1, x2, y2)


def _shadow(frame: UInt8Image, foot: tuple[int, int], height: int) -> None:
    """Darken an ellipse on the ground around the feet (in place)."""
    rx, ry = max(2, round(height * 0.2)), max(1, round(height * 0.035))
    x1, y1 = max(0, foot[0] - 2 * rx), max(0, foot[1] - 2 * ry)
    x2, y2 = min(frame.shape[1], foot[0] + 2 * rx), min(frame.shape[0], foot[1] + 2 * ry)
    if x2 <= x1 or y2 <= y1:
        return
    mask = np.zeros((y2 - y1, x2 - x1), dtype=np.float32)
    cv2.ellipse(mask, (foot[0] - x1 + rx // 3, foot[1] - y1), (rx, ry), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, ry / 1.5))
    region = frame[y1:y2, x1:x2].astype(np.float32)
    frame[y1:y2, x1:x2] = (region * (1.0 - 0.45 * mask[:, :, None])).astype(np.uint8)


@dataclass(frozen=True, slots=True)
class Walker:
    """A person walking along the ground: feet at ``start`` (pixels) in frame 0, ``speed``
    pixels per frame along x (negative: right to left, and the figure faces that way),
    ``height`` pixels tall; one walk cycle (two steps) covers ``cycle`` heights of ground."""

    start: tuple[int, int]
    speed: float
    height: int = 180
    look: PersonLook = DEMO_LOOK
    cycle: float = 0.8

    def foot(self, index: int) -> tuple[int, int]:
        """Where the feet touch the ground in frame ``index``."""
        return round(self.start[0] + self.speed * index), self.start[1]

    def phase(self, index: int, steps: int = 16) -> float:
        """The walk-cycle angle in frame ``index``, quantised to ``steps`` poses per cycle
        so that rendered poses can be cached."""
        travelled = abs(self.speed) * index / (self.cycle * self.height)
        return round(travelled * steps) % steps * 2 * math.pi / steps

    def draw(self, frame: UInt8Image, index: int) -> tuple[int, int, int, int]:
        """Draw the walker into ``frame`` (in place); its box, clipped to the frame."""
        sprite = render_person(self.look, self.height, self.phase(index))
        return draw_person(frame, sprite, self.foot(index), 1 if self.speed >= 0 else -1)
