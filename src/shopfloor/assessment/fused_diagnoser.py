"""Physics evidence and a learned model, fused, with healthy as the default answer.

Per row (a window's physics features, :func:`~shopfloor.manipulation.bearing_features`):

* the **learned model** (LightGBM, one thread, seeded) gives class probabilities, tempered by a
  temperature fitted on out-of-group predictions (a bearing never judges itself), so they are
  calibrated on bearings the model did not see;
* the **physics rule** (:class:`~shopfloor.assessment.physics_diagnoser.PhysicsRuleDiagnoser`)
  says whether a defect's harmonic series is strong on its own terms (significance after the
  look-elsewhere correction, at least two harmonics at the 1 % level).

Fusion, fixed in advance (not fitted):

1. physics strong for S, model agrees: the model's probabilities (``side = "agree"``);
2. physics strong for S, model prefers another class F: a strong series proves *a* defect, but
   not always *which* (seeded ball faults on CWRU show race lines, Smith and Randall 2015). Who
   decides is not guessed: with ``resolve="validated"`` (default) it is the side that was right
   more often on such disagreements in the **out-of-group** predictions of the training data
   (each physical bearing judged by a model that never saw it); ties and fits without groups
   keep physics. Physics winning: probabilities halfway between the model's and certainty on S
   (``side = "physics"``); the model winning: its own probabilities
   (``side = "model-over-physics"``, the explanation names the series it overruled);
3. no strong series: only ``normal`` and the faults whose own frequency shows at least one
   harmonic at the 1 % level after a look-elsewhere correction over the bands remain possible;
   the model's probabilities are conditioned on them (Bayes: a fault with no line of its own is
   given no weight). If the most probable of them is a fault, it is called
   (``side = "model"``; the model's own first choice or, when that has no line, the next class
   it finds likely that does);
4. no strong series, model names fault F, nothing of F shows in the spectrum, but the
   pre-whitened signal is impulsive beyond ``impulse_kurtosis`` (only when that is set, > 0):
   the model's probabilities (``side = "model-impulsive"``). Off by default: impacts without a
   defect line are also what looseness, gears or a rubbing fan give on a healthy bearing;
5. only when ``sure_level`` > 0 (off by default, see below): no strong series, model names
   fault F with probability at least ``sure_level`` (0.5: more likely than everything else
   together), nothing of F shows, the window is impulsive
   (pre-whitened kurtosis above ``QUIET_KURTOSIS``) and F is one of ``sure_``: the model's
   probabilities (``side = "model-sure"``). ``sure_`` is decided in ``fit``, per fault class,
   on out-of-group predictions: F is trusted only if such calls of F were right more often
   than wrong on bearings the model never saw (rows weighted to ``class_prior``). This is how
   CWRU's ball faults, which show no envelope line (Smith and Randall 2015), can be called;
   a quiet window (healthy evidence) is never overruled this way. Off by default because
   impulsiveness is not specific to a bearing defect: random impacts added to a healthy
   bearing (no periodicity at any defect frequency) were called "rolling element 86 %" by the
   shipped model with this side on. Against the machine's own healthy baseline
   (``assessment/baseline_diagnosis``) a rise in impulsiveness is a finding without it;
6. otherwise healthy by default, probabilities halfway between the model's and certainty on
   normal (``side = "healthy-default"``): a fault is called only with physical evidence for it.

A ``normal`` answer comes in three kinds, because what makes it trustworthy is healthy
evidence, not a lower bar for faults: ``quiet-normal`` (the model says normal, no race
signature has even a weak line and the window is not impulsive), ``model-normal`` (the model
says normal, but some line or impulsiveness is there) and ``healthy-default`` (the model named
a fault without evidence). The learned model is trained with every class weighing the same
(``class_weight="balanced"``), since CWRU has a few healthy windows against hundreds of
faulty ones.

Calibration (``calibrate=True`` and ``fit`` given ``groups``): every training bearing is
judged by a model that never saw it (out-of-group). A temperature for the learned side is the
one that best explains those predictions (softening only); then, because the rules above move
probabilities by fixed amounts that nobody measured, the reported confidence is what was
measured: the share of out-of-group decisions taken on the same side (``agree``, ``physics``,
...) that were right, as a Beta(1, 1) posterior mean (histogram binning by the kind of
evidence, Zadrozny and Elkan 2001). The decided class stays on top; the rest is spread evenly.
A side never seen out-of-group gets 1/2. A ``quiet-normal`` answer is the exception: its
confidence is Laplace's rule of succession over its passed checks (one per race signature,
not impulsive, the model agrees: 6/7), as the physics rules give a quiet normal, because the
corpus has two healthy bearings, too few to count it out of group.

That accuracy depends on how often each true class occurs (a side's accuracy is
P(true = decided | side), which Bayes ties to the class prior). The training corpus's mix is
not the plant's: CWRU has 2 healthy bearings against 34 faulty ones, a plant the opposite, and
its fault rate is unknown to us. So the rows are weighted to a stated prior before the side
accuracies are counted (``class_prior="uniform"``, default: every true class carries equal
total weight, the neutral prior; the label-shift correction of Saerens, Latinne and
Decaestecker 2002: P(right | side) from the per-class rates P(side, right | true c), each
estimated on its own class's rows, :func:`side_confidence`). ``class_prior="training"`` keeps
the corpus's own mix. The physics rules'
confidence (:class:`~shopfloor.assessment.physics_diagnoser.PhysicsRuleDiagnoser`) is fixed
from signal statistics, not counted on a corpus, so it has no such prior to correct.

The model is kept as LightGBM's text format, so it can ship inside the package
(:mod:`shopfloor.assessment.default_model`) and be read without unpickling.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import chi2

from shopfloor.assessment.calibration import (
    CLASS_PRIORS,
    SIDES,
    class_balanced_weights,
    count_sides,
    expected_calibration_error,
    reliability_table,
    side_confidence,
)
from shopfloor.assessment.diagnoser import Diagnoser
from shopfloor.assessment.diagnosis import CLASS_OF_SIGNATURE, SIGNATURE_OF, FaultClass
from shopfloor.assessment.evidence import as_feature_frame, band_names, describe_row, strongest
from shopfloor.assessment.physics_diagnoser import (
    RACE_SIGNATURES,
    PhysicsRuleDiagnoser,
    severity_from_db,
)
from shopfloor.core.base import FloatArray, Interval, Options
from shopfloor.core.errors import InputError

__all__ = [
    "CLASS_PRIORS",
    "SIDES",
    "FusedDiagnoser",
    "class_balanced_weights",
    "count_sides",
    "expected_calibration_error",
    "reliability_table",
    "side_confidence",
]

RESOLVE = ("validated", "physics", "model")
#: How training rows are weighted: ``"balanced"`` gives every class the same total weight.
CLASS_WEIGHTS = ("balanced", "none")
#: Temperatures tried when calibrating (log grid from 1 = the model as trained). Calibration may
#: make the model less sure, never surer than trained: out-of-group predictions over a handful
#: of bearings are too few to justify sharpening, and a new rig is harder than the old ones.
_TEMPERATURES = np.exp(np.linspace(0.0, np.log(8.0), 31))
#: The least physical support a model-only fault call needs: the series' combined significance
#: (the ``.sig`` column, a sum of -log10 chances over the harmonics searched) at the 1 % level
#: by Fisher's method (-2 sum ln p ~ chi-squared with 2k degrees of freedom, k harmonics), before
#: the look-elsewhere correction over the bands and race signatures searched.
_WEAK_SUPPORT = float(chi2.isf(0.01, 6) / 2.0 / np.log(10.0))  # 3.65
#: Pre-whitened kurtosis at or below which a window counts as not impulsive (Gaussian noise
#: gives 3; a defect's impacts raise it). Part of the healthy evidence a ``quiet-normal``
#: answer needs, and the level the reported impulsive alternative uses for a fault.
QUIET_KURTOSIS = 4.0
#: Confidence of a ``quiet-normal`` answer: (checks passed + 1) / (checks + 2) with every check
#: passed (one per race signature, not impulsive, the learned model agrees).
QUIET_CONFIDENCE = (len(RACE_SIGNATURES) + 2.0 + 1.0) / (len(RACE_SIGNATURES) + 2.0 + 2.0)
#: Absolute-level columns the model leaves out unless ``use_level`` (see the parameter).
LEVEL_COLUMNS = ("time.rms",)


def _softmax_tempered(proba: FloatArray, temperature: float) -> FloatArray:
    logits = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out: FloatArray = np.exp(logits)
    out /= out.sum(axis=1, keepdims=True)
    return out


class FusedDiagnoser(Diagnoser):
    """Physics-first fusion of defect-frequency evidence with a calibrated LightGBM model.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples, colsample_bytree: LightGBM's.
    calibrate: fit a temperature on out-of-group predictions when ``fit`` gets ``groups``.
    resolve: who decides when a strong series and the model disagree: ``"physics"``,
        ``"model"``, or ``"validated"`` (the side right more often on the out-of-group
        predictions of the training data; physics without groups or on a tie).
    use_level: let the model use the absolute vibration level (``time.rms``). Off by default:
        its value depends on the sensor's sensitivity and unit (g or m/s²) and on the machine,
        so splits learned on one rig mean nothing on another.
    impulse_kurtosis: pre-whitened kurtosis above which impulsiveness alone lets the model call
        a fault that has no line of its own (0, the default, turns this off).
    sure_level: the model's least probability for a ``model-sure`` call (rule 5; 0, the
        default, turns the side off; 0.5 is the reported variant). Which faults it may call is
        validated out of group in ``fit`` (``sure_``).
    class_weight: ``"balanced"`` (default): every class carries the same total weight in
        training; ``"none"``: every row weighs 1.
    class_prior: the prior over true classes under which each side's out-of-group accuracy
        (the reported confidence) is measured. ``"uniform"`` (default): every true class
        carries equal total weight, whatever the training corpus's mix; the neutral choice
        when the plant's fault rate is unknown (a label-shift correction, Saerens, Latinne
        and Decaestecker 2002). ``"training"``: the corpus's own mix (CWRU: almost every
        bearing faulty, so ``normal`` answers would be reported as mostly wrong).
    min_confidence: below this top-class probability the answer is ``unknown`` (0 disables).
    random_state: seed (training is single-threaded and deterministic for a seed).

    Attributes
    ----------
    classes_, booster_ (``lightgbm.Booster``), temperature_, oof_accuracy_ (None without
    groups), reliability_ (per side, ``[right, n]`` of the out-of-group decisions; empty
    without calibration), resolve_ (``"physics"`` or ``"model"``), disagreements_ (out-of-group
    disagreements seen and how often each side was right: ``{"n", "physics", "model"}``).
    side_counts_ (the same per side and true class, :func:`count_sides`), side_confidence_
    (per side, the reported confidence: P(right | side) under ``class_prior``,
    :func:`side_confidence`; empty without calibration). sure_ (the faults the ``model-sure``
    side may call), sure_check_ (per fault, its out-of-group ``model-sure`` calls: ``n`` and
    the class-prior-weighted ``right`` and ``wrong``).
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_estimators": [Interval(int, 1, None, closed="left")],
        "learning_rate": [Interval(float, 0.0, 1.0, closed="right")],
        "num_leaves": [Interval(int, 2, None, closed="left")],
        "min_child_samples": [Interval(int, 1, None, closed="left")],
        "colsample_bytree": [Interval(float, 0.0, 1.0, closed="right")],
        "calibrate": [bool],
        "resolve": [Options(str, RESOLVE)],
        "class_prior": [Options(str, CLASS_PRIORS)],
        "impulse_kurtosis": [Interval(float, 0.0, None, closed="left")],
        "sure_level": [Interval(float, 0.0, 1.0, closed="both")],
        "class_weight": [Options(str, CLASS_WEIGHTS)],
        "use_level": [bool],
        "min_confidence": [Interval(float, 0.0, 1.0, closed="both")],
        "random_state": [Interval(int, 0, None, closed="left")],
    }
    _tags: ClassVar[dict[str, Any]] = {
        "input_kind": "table",
        "multivariate": True,
        "handles_missing": True,
        "needs_labels": True,
        "optional_dependency": "lightgbm",
    }

    version_: str  # set when loaded from a shipped record (default_model)
    sample_rate_hz_: float  # the training rate, set when loaded from a shipped record

    def __init__(
        self,
        n_estimators: int = 100,
        learning_rate: float = 0.05,
        num_leaves: int = 7,
        min_child_samples: int = 20,
        colsample_bytree: float = 0.8,
        calibrate: bool = True,
        resolve: str = "validated",
        impulse_kurtosis: float = 0.0,
        sure_level: float = 0.0,
        class_weight: str = "balanced",
        use_level: bool = False,
        class_prior: str = "uniform",
        min_confidence: float = 0.0,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.colsample_bytree = colsample_bytree
        self.calibrate = calibrate
        self.resolve = resolve
        self.impulse_kurtosis = impulse_kurtosis
        self.sure_level = sure_level
        self.class_weight = class_weight
        self.use_level = use_level
        self.class_prior = class_prior
        self.min_confidence = min_confidence
        self.random_state = random_state

    @classmethod
    def _contract_params(cls) -> list[dict[str, Any]]:
        return [{"n_estimators": 10, "min_child_samples": 2}]

    # --- fitting ----------------------------------------------------------------------------

    def fit(self, x: object, y: object = None, groups: object = None) -> Self:
        """Fit on feature rows ``x`` with labels ``y``.

        ``groups`` (one id per row, e.g. the physical bearing) enables calibration: the model is
        refitted leaving each group out, and the temperature that best explains those
        out-of-group predictions (lowest log loss) is kept.
        """
        self._groups = None if groups is None else np.asarray(groups)
        try:
            return super().fit(x, y)
        finally:
            del self._groups

    def _train(self, x: FloatArray, codes: npt.NDArray[Any], n_classes: int) -> Any:
        import lightgbm as lgb

        params = {
            "objective": "multiclass",
            "num_class": n_classes,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "feature_fraction": self.colsample_bytree,
            "seed": self.random_state,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbose": -1,
        }
        weight = None
        if self.class_weight == "balanced":
            # every class the same total weight: CWRU has a few healthy windows against
            # hundreds of faulty ones, and a plant's mix is unknown (the same neutral prior as
            # class_prior="uniform")
            count = np.bincount(codes, minlength=n_classes).astype(np.float64)
            weight = (codes.size / (n_classes * np.maximum(count, 1.0)))[codes]
        data = lgb.Dataset(
            x[:, self._model_columns()], label=codes, weight=weight, free_raw_data=True
        )
        return lgb.train(params, data, num_boost_round=self.n_estimators)

    def _fit(self, x: FloatArray, y: npt.NDArray[Any] | None) -> None:
        assert y is not None  # needs_labels: the base class has checked
        as_feature_frame(x[:1], getattr(self, "feature_names_in_", None))  # layout check
        classes, codes = np.unique(np.asarray(y).astype(str), return_inverse=True)
        if classes.size < 2:
            raise InputError(f"FusedDiagnoser needs at least two classes, got {classes.tolist()}")
        self.classes_ = classes
        self.booster_ = self._train(x, codes, classes.size)
        self.temperature_ = 1.0
        self.oof_accuracy_: float | None = None
        self.resolve_ = "model" if self.resolve == "model" else "physics"
        self.disagreements_: dict[str, int] = {"n": 0, "physics": 0, "model": 0}
        self.reliability_: dict[str, list[int]] = {}
        self.side_counts_: dict[str, dict[str, list[int]]] = {}
        self.side_confidence_: dict[str, float] = {}
        self.disagreement_table_: list[list[float]] = []
        self.sure_: list[str] = []
        self.sure_check_: dict[str, dict[str, float]] = {}
        groups = self._groups
        if groups is None or np.unique(groups).size < 2:
            return
        if groups.shape[0] != x.shape[0]:
            raise InputError(f"groups has {groups.shape[0]} entries for {x.shape[0]} rows")
        if not self.calibrate and self.resolve != "validated" and self.sure_level == 0:
            return
        oof = np.full((x.shape[0], classes.size), np.nan)
        for g in np.unique(groups):
            held = groups == g
            train_codes = codes[~held]
            if np.unique(train_codes).size < classes.size:
                continue  # a class seen only in this group: its out-of-group model cannot say it
            booster = self._train(x[~held], train_codes, classes.size)
            oof[held] = np.asarray(booster.predict(x[held][:, self._model_columns()]))
        ok = ~np.isnan(oof).any(axis=1)
        if not ok.any():
            return
        frame = self._frame(x[ok])
        truth = classes[codes[ok]]
        if self.resolve == "validated":
            # disagreements between a strong series and the model, on bearings neither saw
            _, side, winner, top = self._decide(frame, oof[ok], "physics")
            rows = (side == "physics") & (top != FaultClass.NORMAL.value)
            # each disagreement's series strength, and who was right: the model may later
            # overrule only a series no stronger than those it overruled correctly here
            sig, _, detected = PhysicsRuleDiagnoser()._scores(frame)
            strength = np.max(np.where(detected, sig, -np.inf), axis=1)
            self.disagreement_table_ = [
                [float(strength[i]), float(winner[i] == truth[i]), float(top[i] == truth[i])]
                for i in np.flatnonzero(rows)
            ]
            self.disagreements_ = {
                "n": int(rows.sum()),
                "physics": int(np.sum(winner[rows] == truth[rows])),
                "model": int(np.sum(top[rows] == truth[rows])),
            }
            if self.disagreements_["model"] > self.disagreements_["physics"]:
                self.resolve_ = "model"
        if self.calibrate:
            losses = []
            for t in _TEMPERATURES:
                fused, _ = self._fuse(frame, _softmax_tempered(oof[ok], float(t)))
                losses.append(
                    -np.mean(np.log(np.clip(fused[np.arange(ok.sum()), codes[ok]], 1e-12, 1)))
                )
            self.temperature_ = float(_TEMPERATURES[int(np.argmin(losses))])
        tempered = _softmax_tempered(oof[ok], self.temperature_)
        if self.sure_level > 0:
            self._validate_sure(frame, tempered, truth)
        if not self.calibrate:
            return
        fused, sides = self._fuse(frame, tempered)
        right = np.argmax(fused, axis=1) == codes[ok]
        self.oof_accuracy_ = float(np.mean(right))
        side_of = np.asarray(sides)
        self.reliability_ = {
            s: [int(right[side_of == s].sum()), int((side_of == s).sum())] for s in SIDES
        }
        self.side_counts_ = count_sides(side_of, truth, right)
        self.side_confidence_ = side_confidence(self.side_counts_, self.class_prior)

    def _validate_sure(
        self, frame: pd.DataFrame, model: FloatArray, truth: npt.NDArray[Any]
    ) -> None:
        """Which faults the ``model-sure`` side may call: each fault class F separately, only
        if the model's calls of F without a line of F were right more often than not on the
        out-of-group rows. Each true class is weighted to ``class_prior``: under the uniform
        prior, healthy rows wrongly called F weigh as much as all rows of a fault class, so a
        model that calls healthy bearings faulty out of group is not trusted with F."""
        faults = [str(c) for c in self.classes_ if str(c) != FaultClass.NORMAL.value]
        self.sure_ = faults
        _, side, _, top = self._decide(frame, model, self.resolve_)
        _, inverse, count = np.unique(truth, return_inverse=True, return_counts=True)
        weight = (1.0 / count)[inverse] if self.class_prior == "uniform" else np.ones(truth.size)
        self.sure_check_ = {}
        for fault in faults:
            rows = (side == "model-sure") & (top == fault)
            right = float(np.sum(weight[rows & (truth == fault)]))
            wrong = float(np.sum(weight[rows & (truth != fault)]))
            self.sure_check_[fault] = {"n": int(rows.sum()), "right": right, "wrong": wrong}
        self.sure_ = [
            f for f in faults if self.sure_check_[f]["right"] > self.sure_check_[f]["wrong"]
        ]

    # --- prediction ---------------------------------------------------------------------------

    def _frame(self, x: FloatArray) -> pd.DataFrame:
        return as_feature_frame(x, getattr(self, "feature_names_in_", None))

    def _model_columns(self) -> npt.NDArray[np.intp]:
        """Indices of the feature columns the learned model reads (see ``use_level``)."""
        names = list(self._frame(np.zeros((1, int(self.n_features_in_)))).columns)
        keep = [i for i, c in enumerate(names) if self.use_level or c not in LEVEL_COLUMNS]
        return np.asarray(keep, dtype=np.intp)

    def model_proba(self, x: FloatArray) -> FloatArray:
        """The learned model's calibrated probabilities alone (columns ``classes_``)."""
        arr = np.asarray(x, dtype=np.float64)[:, self._model_columns()]
        raw = np.asarray(self.booster_.predict(arr))
        return _softmax_tempered(raw.reshape(x.shape[0], -1), self.temperature_)

    def _decide(
        self, frame: pd.DataFrame, model: FloatArray, resolve: str
    ) -> tuple[FloatArray, npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
        """Fused probabilities, deciding side, physics winner and model top class per row."""
        classes = [str(c) for c in self.classes_]
        sig, _, detected = PhysicsRuleDiagnoser()._scores(frame)
        n = frame.shape[0]
        strong_sig = np.where(detected, sig, -np.inf)
        any_strong = detected.any(axis=1)
        winner = np.array([CLASS_OF_SIGNATURE[s].value for s in RACE_SIGNATURES])[
            np.argmax(strong_sig, axis=1)
        ]
        top = np.asarray(classes)[np.argmax(model, axis=1)]
        normal = FaultClass.NORMAL.value
        # which classes the spectrum leaves possible without a strong series: normal, and each
        # fault with a series of its own at 1 % (Fisher), Bonferroni over bands and signatures
        looks = len(band_names(list(frame.columns))) * len(RACE_SIGNATURES)
        needed = _WEAK_SUPPORT + np.log10(max(1, looks))
        possible = np.ones((n, len(classes)), dtype=bool)
        for j, name in enumerate(RACE_SIGNATURES):
            label = CLASS_OF_SIGNATURE[name].value
            if label in classes and normal in classes:
                found = strongest(frame, name)[1]
                possible[:, classes.index(label)] = (sig[:, j] >= needed) & (found >= 1)
        conditioned = np.where(possible, model, 0.0)
        conditioned /= np.maximum(conditioned.sum(axis=1, keepdims=True), 1e-300)
        choice = np.asarray(classes)[np.argmax(conditioned, axis=1)]
        # (a NaN kurtosis, e.g. a flat window, is neither impulsive nor quiet)
        kurt = frame["cpw_time.kurtosis"].to_numpy(dtype=np.float64)
        impulsive = np.zeros(n, dtype=bool)
        if self.impulse_kurtosis > 0:
            impulsive = kurt > self.impulse_kurtosis
        # healthy evidence, not just the absence of a strong series: no fault has even weak
        # support of its own, and the pre-whitened signal is not impulsive
        no_faults = [j for j, c in enumerate(classes) if c != normal]
        quiet = ~possible[:, no_faults].any(axis=1) & (kurt <= QUIET_KURTOSIS)
        # the model sure of a fault that shows no line of its own: called only where such
        # calls were right out of group in training (sure_, validated in fit)
        sure = np.zeros(n, dtype=bool)
        if self.sure_level > 0:
            sure = (
                np.isin(top, list(getattr(self, "sure_", [])))
                & (model.max(axis=1) >= self.sure_level)
                & (kurt > QUIET_KURTOSIS)  # a quiet window is healthy evidence: never overruled
            )
        # a strong series proves a defect: the model may rename it, never call it normal, and
        # only a series no stronger than those it was seen to overrule correctly out of group
        row_sig = np.max(strong_sig, axis=1)
        model_wins = np.full(n, resolve == "model") & (top != normal)
        table = np.asarray(getattr(self, "disagreement_table_", []), dtype=np.float64)
        if resolve == "model" and self.resolve == "validated" and table.size:
            for i in np.flatnonzero(model_wins & any_strong):
                stronger = table[:, 0] >= row_sig[i]
                model_wins[i] = table[stronger, 2].sum() > table[stronger, 1].sum()
        overruled = np.where(model_wins, "model-over-physics", "physics")
        side = np.where(
            any_strong,
            np.where(
                winner == top,
                "agree",
                np.where(np.isin(winner, classes), overruled, "model"),
            ),
            np.where(
                top == normal,
                np.where(quiet, "quiet-normal", "model-normal"),
                np.where(
                    choice != normal,
                    "model",
                    np.where(
                        impulsive,
                        "model-impulsive",
                        np.where(sure, "model-sure", "healthy-default"),
                    ),
                ),
            ),
        )
        out = model.copy()
        conditioned_rows = (side == "model") & ~any_strong
        out[conditioned_rows] = conditioned[conditioned_rows]
        target = np.full(n, -1)
        physics = side == "physics"
        target[physics] = [classes.index(w) for w in winner[physics]]
        if normal in classes:
            target[side == "healthy-default"] = classes.index(normal)
        moved = target >= 0
        out[moved] *= 0.5
        out[np.flatnonzero(moved), target[moved]] += 0.5
        return out, side, winner, top

    def _fuse(self, frame: pd.DataFrame, model: FloatArray) -> tuple[FloatArray, list[str]]:
        """Fused probabilities and the deciding side per row (rules in the module docstring).

        The side depends on the model only through its most probable class, which a
        temperature does not change, so calibration can reuse one decision per row.
        """
        out, side, _, _ = self._decide(frame, model, getattr(self, "resolve_", "physics"))
        return out, [str(v) for v in side]

    def _calibrated(self, fused: FloatArray, sides: list[str]) -> FloatArray:
        """Confidence = out-of-group accuracy of the row's side (see the module docstring)."""
        confidence = getattr(self, "side_confidence_", {})
        table = getattr(self, "reliability_", {})
        if not confidence and not table:
            return fused
        k = fused.shape[1]
        top = np.argmax(fused, axis=1)
        if confidence:  # under the stated class prior (side_confidence)
            measured = np.array([confidence.get(s, 0.5) for s in sides], dtype=np.float64)
        else:  # a record without it: plain counts, Beta(1, 1) mean (the corpus's mix)
            right = np.array([table.get(s, [0, 0])[0] for s in sides], dtype=np.float64)
            seen = np.array([table.get(s, [0, 0])[1] for s in sides], dtype=np.float64)
            measured = (right + 1.0) / (seen + 2.0)
        # a quiet normal answer rests on physical checks, each of which a healthy bearing
        # passes: no line for any race signature, not impulsive, and the learned model agrees.
        # Its confidence is Laplace's rule of succession over them, as the physics rules give
        # a quiet normal (PhysicsRuleDiagnoser): the corpus has too few healthy bearings (2) to
        # count it out of group, and counting it on faulty bearings alone says nothing.
        quiet = np.asarray(sides) == "quiet-normal"
        measured[quiet] = QUIET_CONFIDENCE
        # the decided class must stay the most probable: at least just above 1/k
        sure = np.maximum(measured, np.nextafter(1.0 / k, 1.0))
        out = np.repeat(((1.0 - sure) / (k - 1))[:, None], k, axis=1)
        out[np.arange(fused.shape[0]), top] = sure
        return out

    def _predict_proba(self, x: FloatArray) -> FloatArray:
        fused, sides = self._fuse(self._frame(x), self.model_proba(x))
        return self._calibrated(fused, sides)

    def sides(self, x: object) -> list[str]:
        """Which side decided each row (see :data:`SIDES` and the module docstring)."""
        arr = self._validate_input(x, reset=False)
        return self._fuse(self._frame(arr), self.model_proba(arr))[1]

    def _explain(
        self, x: FloatArray, row: int, label: FaultClass, proba: FloatArray
    ) -> tuple[str, str]:
        frame = self._frame(x[[row]])
        model = self.model_proba(x[[row]])
        _, (side,) = self._fuse(frame, model)
        top = str(self.classes_[int(np.argmax(model[0]))])
        p_top = float(model[0].max())
        signature = SIGNATURE_OF.get(label)
        evidence = describe_row(frame, 0, signature) if signature in RACE_SIGNATURES else ""
        severity = "none"
        if signature in RACE_SIGNATURES:
            severity = severity_from_db(float(strongest(frame, signature)[2][0]))
        why = {
            "agree": f"physics and the learned model agree ({top} {p_top:.0%}): {evidence}",
            "physics": f"physics won over the learned model ({top} {p_top:.0%}): the "
            f"harmonic series is significant on its own: {evidence}",
            "model-over-physics": f"the learned model won ({top} {p_top:.0%}) over a "
            f"harmonic series of another defect ({_overruled_text(frame)}): on bearings held "
            "out in training, the model was right more often in such disagreements",
            "model": f"the learned model decided ({top} {p_top:.0%}); physics shows only "
            f"weak support: {evidence}",
            "model-impulsive": f"the learned model decided ({top} {p_top:.0%}); no line of "
            "its defect frequency stands out but the vibration is impulsive (pre-whitened "
            f"kurtosis {float(frame['cpw_time.kurtosis'].iloc[0]):.1f})",
            "model-sure": f"the learned model is sure ({top} {p_top:.0%}) and the vibration is "
            f"impulsive (pre-whitened kurtosis {float(frame['cpw_time.kurtosis'].iloc[0]):.1f}), "
            "though no line of its defect frequency stands out (as seeded ball faults often "
            "show none); on bearings held out in training, such calls were right more often "
            "than wrong",
            "healthy-default": f"the learned model suggested {top} ({p_top:.0%}) but no line of "
            "its defect frequency stands out: healthy by default",
            "model-normal": "no defect series stands out and the learned model finds the "
            f"vibration normal ({p_top:.0%})",
            "quiet-normal": "no line of any defect frequency stands out, the vibration is not "
            f"impulsive (pre-whitened kurtosis {float(frame['cpw_time.kurtosis'].iloc[0]):.1f}) "
            f"and the learned model finds it normal ({p_top:.0%})",
        }[side]
        return why, severity


def _overruled_text(frame: pd.DataFrame) -> str:
    sig, _, detected = PhysicsRuleDiagnoser()._scores(frame)
    j = int(np.argmax(np.where(detected[0], sig[0], -np.inf)))
    return describe_row(frame, 0, RACE_SIGNATURES[j])
