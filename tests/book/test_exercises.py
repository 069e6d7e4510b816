"""Hands-On Practices: both directions of every check, through otter-grader itself.

The assignments are built once per session with ``otter assign`` (exercises/build.py) into a
temporary folder. Then, for every practice:

* otter's own grading (``otter.api.grade_submission``, the code path of ``otter run``, no
  Docker) gives the solution notebook full marks on every question, public and hidden tests;
* the untouched student notebook fails the checks of every question, with a message from the
  checks (an ``AssertionError``), not a crash;
* typical wrong answers fail with the teaching message written for them;
* bad student functions (wrong type, wrong shape, NaN, an exception, an endless loop) get a
  clear message within the time limit;
* every answer cell of a student notebook is editable, and every answer the text asks for,
  left blank alone, fails a public check that names it;
* a mistake in an earlier question makes a later one say "fix Qn first", not its own hints;
* a name whose cell raised, timed out or never ran is reported as such, and the last cell
  prints the points per question and the total;
* ``grader.check`` works in a plain Jupyter kernel (the student's view).
"""

import ast
import contextlib
import io
import importlib.util
import json
import os
import pathlib
import re
import sys
import threading
import time
import types
import zipfile

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load("exercises_build", EXERCISES / "build.py")
PRACTICES = [path.stem for path in build.practice_sources()]


@pytest.fixture(scope="session")
def assignments(tmp_path_factory):
    """Build every practice once (student notebook, solution notebook, autograder zip)."""
    out = tmp_path_factory.mktemp("assignments")
    built = {b["name"]: b for b in build.build_all(out, run_tests=False, verbose=False)}
    for info in built.values():
        tests_dir = info["autograder"].parent / f"{info['name']}-tests"
        with zipfile.ZipFile(info["autograder"]) as archive:
            archive.extractall(tests_dir)
        info["test_files"] = sorted((tests_dir / "tests").glob("q*.py"))
    return built


@pytest.fixture(scope="session")
def check_helpers(assignments):
    """The check_helpers module the tests import (from a student folder, as students do)."""
    student_dir = str(next(iter(assignments.values()))["student"].parent)
    if student_dir not in sys.path:
        sys.path.insert(0, student_dir)
    import check_helpers

    return check_helpers


def _code_cells(notebook_path):
    notebook = json.loads(pathlib.Path(notebook_path).read_text())
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or "otter.Notebook" in source or "grader.check" in source:
            continue
        yield source


def execute_in_process(notebook_path):
    """Run the code cells of a notebook in one namespace, as a kernel would (errors kept, and
    told to check_helpers as its Jupyter hook does)."""
    import check_helpers
    import matplotlib

    matplotlib.use("Agg")
    env, errors = {"__name__": "__main__"}, []
    with contextlib.redirect_stdout(io.StringIO()):
        for source in _code_cells(notebook_path):
            try:
                exec(compile(source, str(notebook_path), "exec"), env)
            except Exception as error:  # a blank student notebook raises in later cells
                errors.append(error)
                check_helpers.record_cell(source, error)
            else:
                check_helpers.record_cell(source)
    return env, errors


def run_question(test_file, env):
    """Run one otter exception-based test file against ``env``; return the case results."""
    from otter.test_files import ExceptionTestFile

    tests = ExceptionTestFile.from_file(str(test_file))
    tests.run(env)
    return tests.test_case_results


def question_file(info, question):
    return next(path for path in info["test_files"] if path.stem == question)


@pytest.fixture(scope="session")
def solution_envs(assignments, check_helpers):
    return {name: execute_in_process(info["solution"])[0] for name, info in assignments.items()}


@pytest.fixture(scope="session")
def student_envs(assignments, check_helpers):
    return {name: execute_in_process(info["student"])[0] for name, info in assignments.items()}


def test_eight_practices_in_book_order():
    assert PRACTICES == [
        "practice1_relative_entropy",
        "practice2_pmf",
        "practice3_moment_matching",
        "practice4_newton_rem",
        "practice5_information",
        "practice6_overfitting",
        "practice7_dynamics",
        "practice8_gaussian_chain",
    ]


@pytest.mark.parametrize("name", PRACTICES)
def test_every_answer_cell_is_editable(assignments, name):
    """A student can type in every cell that holds a ``...`` placeholder (otter locks the cells
    that sit directly in a question block, so each answer is wrapped in a SOLUTION block); the
    cells otter writes (init, checks) stay locked."""
    cells = json.loads(assignments[name]["student"].read_text())["cells"]
    code = [(cell, "".join(cell["source"])) for cell in cells if cell["cell_type"] == "code"]
    answers = [cell for cell, source in code if re.search(r"(^|[=\s(\[,])\.\.\.($|[\s)\],#])", source, re.M)]
    questions = [source for _, source in code if source.startswith("grader.check(")]
    assert len(answers) >= len(questions) >= 3, name
    for cell in answers:
        where = f"{name}: {''.join(cell['source'])[:60]!r}"
        assert cell["metadata"].get("editable", True) is True, where
        assert cell["metadata"].get("deletable", True) is True, where
        assert "otter_answer_cell" in cell["metadata"].get("tags", []), where
    for cell, source in code:
        if source.startswith(("grader.check(", "# Initialize Otter")):
            assert cell["metadata"]["editable"] is False and cell["metadata"]["deletable"] is False


@pytest.mark.timeout(900)  # otter's grading has no time limit of its own
@pytest.mark.parametrize("name", PRACTICES)
def test_otter_grades_the_solution_full_marks(assignments, name):
    from otter.api import grade_submission

    info = assignments[name]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        results = grade_submission(str(info["solution"]), str(info["autograder"]), quiet=True)
    questions = [path.stem for path in info["test_files"]]
    assert len(questions) >= 3
    assert sorted(results.test_files) == sorted(questions)
    for question in questions:
        result = results.get_result(question)
        assert result.passed_all, f"{name} {question}:\n{result.summary()}"
        assert len(result.test_case_results) >= 1
    assert results.total == results.possible > 0


@pytest.mark.parametrize("name", PRACTICES)
def test_every_question_has_public_and_hidden_tests(assignments, solution_envs, name):
    """Every question has a public test; every question that asks for a function also has a hidden
    test (other inputs), so that an answer fitted to the public example does not get the points."""
    info = assignments[name]
    student_meta = json.loads(info["student"].read_text())["metadata"]["otter"]["tests"]
    hidden_anywhere = False
    for path in info["test_files"]:
        source = path.read_text()
        assert "hidden=False" in source, f"{name} {path.stem} has no public test"
        hidden_anywhere |= "hidden=True" in source
        if functions_the_checks_call(path, solution_envs[name]):
            assert "hidden=True" in source, f"{name} {path.stem} asks for a function but has no hidden test"
        # the student's copy carries the public tests only
        assert "hidden=True" not in student_meta[path.stem]
    assert hidden_anywhere, f"{name} has no hidden test"


@pytest.mark.parametrize("name", PRACTICES)
def test_blank_student_notebook_fails_every_question(assignments, student_envs, name):
    from otter.test_files import ExceptionTestFile

    info = assignments[name]
    env = student_envs[name]
    public = json.loads(info["student"].read_text())["metadata"]["otter"]["tests"]
    for path in info["test_files"]:
        results = run_question(path, env)
        failed = [r for r in results if not r.passed]
        assert failed, f"{name} {path.stem}: the blank student version passes"
        for result in failed:
            assert "AssertionError:" in result.message, f"{name} {path.stem}: not a check message:\n{result.message}"
        # what the student sees with grader.check: the public tests fail too
        public_tests = ExceptionTestFile.from_metadata(public[path.stem], f"{path.stem}.py")
        public_tests.run(env)
        assert not public_tests.passed_all, f"{name} {path.stem}: public checks pass on the blank version"


# one or more typical mistakes per practice: (practice, question, code run after the
# solution, a fragment of the teaching message that must appear)
WRONG_ANSWERS = [
    ("practice1_relative_entropy", "q1",
     "_right = kl_divergence\ndef kl_divergence(p, q):\n    return _right(q, p)", "arguments are swapped"),
    ("practice1_relative_entropy", "q1",
     "_right = kl_divergence\ndef kl_divergence(p, q):\n    return _right(p, q) / np.log(2)", "natural logarithm"),
    ("practice1_relative_entropy", "q4", "theta_forward = theta_reverse", "Did you swap the arguments"),
    ("practice2_pmf", "q1",
     "def histogram_density(samples, edges):\n    return np.histogram(samples, edges)[0] / len(samples)",
     "not by the bin width"),
    ("practice2_pmf", "q3",
     "def distance_pmf(r_samples, edges, beta=1.0):\n"
     "    return boltzmann_inversion(histogram_density(r_samples, edges), beta)", "Jacobian"),
    ("practice3_moment_matching", "q2",
     "def gradient(theta, mean_x2, beta=1.0):\n    return -beta * (mean_x2 - 1 / (2 * beta * theta))",
     "wrong sign"),
    ("practice3_moment_matching", "q1",
     "def theta_by_hand(mean_x2, beta=1.0):\n    return 1 / (beta * mean_x2)", "factor 2"),
    ("practice4_newton_rem", "q2",
     "def newton_step(theta, target_mean):\n    mean, cov = model_averages(theta)\n"
     "    return np.asarray(theta) + np.linalg.solve(cov, np.asarray(target_mean) - mean)", "Sign error"),
    ("practice4_newton_rem", "q1",
     "_right = model_averages\ndef model_averages(theta):\n    mean, cov = _right(theta)\n"
     "    return mean, cov + np.outer(mean, mean)", "not the covariance"),
    ("practice5_information", "q1",
     "_right = ising_probabilities\ndef ising_probabilities(J, h, beta=1.0):\n    return _right(-J, -h, beta)",
     "Sign of the energy"),
    ("practice5_information", "q2",
     "_right = coarse_labels\ndef coarse_labels(states):\n    lab = _right(states)\n"
     "    return 2 * (lab % 2) + lab // 2", "Block order"),
    ("practice6_overfitting", "q3", "best_m = int(sizes[np.argmax(ll_train)])", "training likelihood"),
    ("practice6_overfitting", "q1",
     "def log_likelihood(theta, samples):\n    return float(np.mean(-design(samples, len(theta)) @ theta))",
     "forgot ln Z"),
    ("practice7_dynamics", "q1",
     "def euler_maruyama(force, x0, dt, n_steps, beta=1.0, gamma=1.0, seed=0):\n"
     "    rng = np.random.default_rng(seed)\n    x = np.array(x0, dtype=float)\n    out = [x]\n"
     "    for _ in range(n_steps):\n"
     "        x = x + force(x) * dt / gamma + np.sqrt(dt / (beta * gamma)) * rng.standard_normal(x.size)\n"
     "        out.append(x)\n    return np.array(out)", "forget the 2"),
    ("practice7_dynamics", "q2",
     "_right = fit_drift\ndef fit_drift(traj, dt, basis_derivative):\n    return -_right(traj, dt, basis_derivative)",
     "Sign error"),
    ("practice7_dynamics", "q4", "barrier = 1.0", "entropic term"),
    ("practice8_gaussian_chain", "q1", "def k_rem_formula(n, k, beta=1.0):\n    return k / n", "in series"),
    ("practice8_gaussian_chain", "q3",
     "_right = mapped_forces\ndef mapped_forces(x, n, k):\n    return -_right(x, n, k)", "Sign error"),
    # hints aimed at the mistake made, and "fix Qn first" where a question builds on an earlier one
    ("practice1_relative_entropy", "q1",
     "def kl_divergence(p, q):\n    p, q = np.asarray(p, float), np.asarray(q, float)\n    v = p > 0\n"
     "    return math.inf if np.any(q[v] == 0) else float(np.sum(p[v] * np.log(p[v] / q[v])))",
     "normalise p and q inside"),
    ("practice1_relative_entropy", "q3", "slope = -slope", "the slope per unit of ln(1/eps) is positive"),
    ("practice1_relative_entropy", "q3", "slope = slope * np.log(100)", "Divide the change of smoothed_penalty"),
    ("practice1_relative_entropy", "q4", "theta_reverse = theta_forward", "is the forward fit"),
    ("practice2_pmf", "q2",
     "_right = boltzmann_inversion\ndef boltzmann_inversion(density, beta=1.0):\n    return _right(density, 1.0)",
     "beta is not used"),
    ("practice2_pmf", "q2",
     "_right = boltzmann_inversion\ndef boltzmann_inversion(density, beta=1.0):\n    return _right(density, 1 / beta)",
     "You multiplied by beta"),
    ("practice2_pmf", "q2",
     "_right = boltzmann_inversion\ndef boltzmann_inversion(density, beta=1.0):\n"
     "    f = -_right(density, beta)\n    return f - f[np.isfinite(f)].min()", "The sign is wrong"),
    ("practice3_moment_matching", "q4",  # a closed-form answer dressed as Newton
     "def newton_fit(mean_x2, theta0, beta=1.0, tol=1e-12, max_iter=100):\n"
     "    t = 1 / (2 * beta * mean_x2)\n    return t, [theta0, t, t]", "is not a Newton step"),
    ("practice3_moment_matching", "q4",
     "def newton_fit(mean_x2, theta0, beta=1.0, tol=1e-12, max_iter=100):\n    return 1 / (2 * beta * mean_x2)",
     "should be a tuple of 2 items"),
    ("practice4_newton_rem", "q3", "n_iter = 100", "count one per Newton step"),
    ("practice5_information", "q2",
     "def mapped_distribution(p, labels):\n    return np.bincount(labels, minlength=4)", "add up their probabilities"),
    ("practice5_information", "q2",
     "def mapped_distribution(p, labels):\n    return np.bincount(labels, weights=p)", "still needs its entry"),
    ("practice6_overfitting", "q3", "ll_test = ll_train", "fix Q2 first"),
    ("practice7_dynamics", "q2", "theta_drift = -theta_drift", "standard errors from (-2, 1)"),
    ("practice8_gaussian_chain", "q2", "k_rem_measured = 1 / k_rem_measured", "is inverted"),
    ("practice8_gaussian_chain", "q4", "ratio = 1 / ratio", "ratio is inverted"),
]

# a mistake in an earlier question: the later question says "fix Qn first" and none of its own
# hints (practice, question, code, fragment that must appear, fragment that must not)
DEPENDENT_MISTAKES = [
    ("practice1_relative_entropy", "q1",
     "_right = kl_divergence\ndef kl_divergence(p, q):\n    return _right(p, q) / np.log(2)",
     "right for probabilities first", "Counts must"),
    ("practice1_relative_entropy", "q3",
     "_right = kl_divergence\ndef kl_divergence(p, q):\n    return _right(p, q) / np.log(2)", "Fix Q1 first", "finite"),
    ("practice2_pmf", "q2",
     "_right = histogram_density\ndef histogram_density(samples, edges):\n    return 2 * _right(samples, edges)",
     "Fix Q1 first", "standard errors"),
    ("practice2_pmf", "q3",
     "_right = boltzmann_inversion\ndef boltzmann_inversion(density, beta=1.0):\n"
     "    f = -_right(density, beta)\n    return f - f[np.isfinite(f)].min()", "Fix Q2 first", "Jacobian"),
    ("practice2_pmf", "q4",
     "_right = distance_pmf\ndef distance_pmf(r, edges, beta=1.0):\n    return 2 * _right(r, edges, beta)",
     "Fix Q3 first", "note the 1/2"),
    ("practice3_moment_matching", "q4",
     "_right = gradient\ndef gradient(theta, mean_x2, beta=1.0):\n    return -_right(theta, mean_x2, beta)",
     "Fix Q2 first", "Newton step"),
    ("practice4_newton_rem", "q2",
     "_right = model_averages\ndef model_averages(theta):\n    m, c = _right(theta)\n    return m, 2 * c",
     "Fix Q1 first", "Sign error"),
    ("practice4_newton_rem", "q3",
     "_right = newton_step\ndef newton_step(theta, target_mean):\n"
     "    return 2 * np.asarray(theta) - _right(theta, target_mean)", "Fix Q2 first", "halving"),
    ("practice4_newton_rem", "q4",
     "def fit(theta0, target_mean, tol=1e-10, max_iter=100):\n    return np.asarray(theta0, float), 0",
     "Fix Q3 first", "moment matching"),
    ("practice5_information", "q3",
     "def mapped_distribution(p, labels):\n    return np.bincount(labels, minlength=4) / len(labels)",
     "Fix Q2 first", "coarse ="),
    ("practice5_information", "q4",
     "_right = information_terms\ndef information_terms(p_aa, labels, p_cg):\n"
     "    t, c, r = _right(p_aa, labels, p_cg)\n    return t, c, 2 * r", "Fix Q3 first", "best_terms"),
    ("practice6_overfitting", "q2",
     "_right = log_likelihood\ndef log_likelihood(theta, samples):\n    return _right(theta, samples) + 1",
     "Fix Q1 first", "must not decrease"),
    ("practice7_dynamics", "q2",
     "_right = euler_maruyama\ndef euler_maruyama(force, x0, dt, n_steps, beta=1.0, gamma=1.0, seed=0):\n"
     "    return _right(lambda x: 2 * force(x), x0, dt, n_steps, beta, gamma, seed)", "Fix Q1 first",
     "standard errors"),
    ("practice7_dynamics", "q4",
     "_right = binned_mean_force\ndef binned_mean_force(x, fx, edges):\n    return -_right(x, fx, edges)",
     "Fix Q3 first", "entropic"),
    ("practice8_gaussian_chain", "q3",
     "_right = com_positions\ndef com_positions(x, n):\n    return 2 * _right(x, n)", "Fix Q2 first", "K_FM ="),
    ("practice8_gaussian_chain", "q4", "k_fm_measured = 2 * k_fm_measured", "fix Q3 first", "ratio ="),
]


@pytest.mark.parametrize("name, question, code, fragment, absent", DEPENDENT_MISTAKES,
                         ids=[f"{w[0][:9]}-{w[1]}-{i}" for i, w in enumerate(DEPENDENT_MISTAKES)])
def test_a_mistake_is_reported_where_it_is_made(assignments, solution_envs, name, question, code, fragment,
                                                absent):
    env = dict(solution_envs[name])
    exec(code, env)
    results = run_question(question_file(assignments[name], question), env)
    messages = "\n".join(r.message for r in results if not r.passed)
    assert fragment in messages, messages
    assert absent not in messages, messages


# every answer the text asks for, by question: with only this answer left blank (a value back to
# `...`, a function back to its `...` stub) the question's public checks fail and name it
ANSWERS = {
    "practice1_relative_entropy": {"q1": ["kl_divergence"], "q2": ["d_forward", "d_backward", "asymmetry"],
                                   "q3": ["smoothed_penalty", "slope"], "q4": ["theta_forward", "theta_reverse"]},
    "practice2_pmf": {"q1": ["histogram_density"], "q2": ["boltzmann_inversion", "f_double_well"],
                      "q3": ["distance_pmf"], "q4": ["k_fit"]},
    "practice3_moment_matching": {"q1": ["theta_by_hand"], "q2": ["gradient"], "q3": ["hessian"],
                                  "q4": ["newton_fit", "theta_star"]},
    "practice4_newton_rem": {"q1": ["model_averages"], "q2": ["newton_step"], "q3": ["theta_fit", "n_iter"],
                             "q4": ["tilted_mean", "theta_tilted"]},
    "practice5_information": {"q1": ["ising_probabilities"], "q2": ["coarse_labels", "mapped_distribution"],
                              "q3": ["information_terms"], "q4": ["p_cg_best", "best_terms", "irreducible"]},
    "practice6_overfitting": {"q1": ["log_likelihood"], "q2": ["ll_train", "ll_test"], "q3": ["best_m"]},
    "practice7_dynamics": {"q1": ["euler_maruyama"], "q2": ["fit_drift", "theta_drift"], "q3": ["binned_mean_force"],
                           "q4": ["pmf_from_mean_force", "barrier"]},
    "practice8_gaussian_chain": {"q1": ["k_rem_formula"], "q2": ["com_positions", "k_rem_measured"],
                                 "q3": ["mapped_forces", "k_fm_measured"],
                                 "q4": ["ratio", "bond_var_target", "bond_var_rem", "bond_var_fm"]},
}


def _stub(name):
    """The starter code of a function answer: a function whose body is still ``...``."""
    namespace = {}
    exec(f"def {name}(*args, **kwargs):\n    \"\"\"Starter code.\"\"\"\n    ...", namespace)
    return namespace[name]


@pytest.mark.parametrize("name", PRACTICES)
def test_every_answer_is_checked_by_a_public_test(assignments, solution_envs, name):
    from otter.test_files import ExceptionTestFile

    info = assignments[name]
    public = json.loads(info["student"].read_text())["metadata"]["otter"]["tests"]
    assert sorted(ANSWERS[name]) == sorted(public)
    for question, answers in ANSWERS[name].items():
        for answer in answers:
            env = dict(solution_envs[name])
            assert answer in env, f"{name}: the solution does not define {answer}"
            env[answer] = _stub(answer) if isinstance(env[answer], types.FunctionType) else ...
            tests = ExceptionTestFile.from_metadata(public[question], f"{question}.py")
            tests.run(env)
            messages = "\n".join(r.message for r in tests.test_case_results if not r.passed)
            assert messages, f"{name} {question}: the public checks pass with `{answer}` blank"
            assert f"`{answer}`" in messages, messages


@pytest.mark.parametrize("name, question, code, fragment", WRONG_ANSWERS,
                         ids=[f"{w[0][:9]}-{w[1]}-{i}" for i, w in enumerate(WRONG_ANSWERS)])
def test_typical_mistake_gets_the_teaching_message(assignments, solution_envs, name, question, code, fragment):
    env = dict(solution_envs[name])
    exec(code, env)
    results = run_question(question_file(assignments[name], question), env)
    failed = [r for r in results if not r.passed]
    assert failed, f"{name} {question}: the mistake passes the checks"
    messages = "\n".join(r.message for r in failed)
    assert fragment in messages, messages
    assert all("AssertionError:" in r.message for r in failed), messages


def test_every_practice_has_a_typical_mistake():
    assert {w[0] for w in WRONG_ANSWERS} == set(PRACTICES)


# (practice, question, the student function its check calls)
CHECKED_FUNCTIONS = [
    ("practice1_relative_entropy", "q1", "kl_divergence"),
    ("practice2_pmf", "q1", "histogram_density"),
    ("practice3_moment_matching", "q2", "gradient"),
    ("practice4_newton_rem", "q1", "model_averages"),
    ("practice5_information", "q1", "ising_probabilities"),
    ("practice6_overfitting", "q1", "log_likelihood"),
    ("practice7_dynamics", "q1", "euler_maruyama"),
    ("practice8_gaussian_chain", "q3", "mapped_forces"),
]


def _map_result(value, transform):
    if isinstance(value, tuple):
        return tuple(transform(np.asarray(v, dtype=float)) for v in value)
    return transform(np.asarray(value, dtype=float))


def _bad_versions(right):
    def wrong_type(*args, **kwargs):
        return "a string"

    def wrong_shape(*args, **kwargs):
        return _map_result(right(*args, **kwargs), lambda v: np.append(v.ravel(), 1.0))

    def returns_nan(*args, **kwargs):
        return _map_result(right(*args, **kwargs), lambda v: np.full(v.shape, np.nan))

    def raises(*args, **kwargs):
        return 1 / 0

    def endless(*args, **kwargs):
        while True:
            pass

    return {
        "wrong type": (wrong_type, ("should be",)),
        "wrong shape": (wrong_shape, ("shape", "single number")),
        "NaN": (returns_nan, ("NaN",)),
        "raises": (raises, ("raised ZeroDivisionError",)),
        "endless loop": (endless, ("did not finish within",)),
    }


def student_functions(test_file, env):
    """The functions of ``env`` that the test cases of one question receive as arguments."""
    tree = ast.parse(pathlib.Path(test_file).read_text())
    arguments = {arg.arg for node in tree.body if isinstance(node, ast.FunctionDef) for arg in node.args.args}
    return sorted(a for a in arguments if isinstance(env.get(a), types.FunctionType))


def functions_the_checks_call(test_file, env):
    """The student functions a question's checks call on inputs of their own (``ch.call(f, ...)``),
    not those only run as a prerequisite from an earlier question (``ch.prerequisite(...)``)."""
    tree = ast.parse(pathlib.Path(test_file).read_text())
    called = {node.args[0].id for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "call" and node.args and isinstance(node.args[0], ast.Name)}
    return sorted(called & set(student_functions(test_file, env)))


@pytest.mark.parametrize("name", PRACTICES)
def test_every_function_a_check_calls_fails_with_a_clear_message(assignments, solution_envs, check_helpers,
                                                                 monkeypatch, name):
    """Every function any test (public or hidden) calls, replaced by a bad version, gets a message."""
    monkeypatch.setattr(check_helpers, "DEFAULT_TIMEOUT", 0.3)
    checked = set()
    for path in assignments[name]["test_files"]:
        for function in student_functions(path, solution_envs[name]):
            checked.add((path.stem, function))
            for kind, (bad, fragments) in _bad_versions(solution_envs[name][function]).items():
                env = dict(solution_envs[name])
                env[function] = bad
                start = time.perf_counter()
                results = run_question(path, env)
                failed = [r for r in results if not r.passed]
                assert failed, f"{name} {path.stem} {function}: {kind} passes"
                for result in failed:
                    message = result.message
                    assert "AssertionError:" in message and any(f in message for f in fragments), (
                        f"{name} {path.stem} {function}, {kind}:\n{message}")
                assert time.perf_counter() - start < 10
    # the discovery finds (at least) the functions named in CHECKED_FUNCTIONS
    assert {(q, f) for n, q, f in CHECKED_FUNCTIONS if n == name} <= checked


def test_time_limit_also_works_outside_the_main_thread(check_helpers):
    box = {}

    def worker():
        try:
            check_helpers.call(lambda: time.sleep(30), name="slow", timeout=0.2)
        except AssertionError as error:
            box["message"] = str(error)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert "did not finish within 0.2 s" in box["message"]


def test_time_limit_is_not_swallowed_by_except_exception(check_helpers):
    def stubborn():
        while True:
            try:
                time.sleep(0.01)
            except Exception:
                pass

    with pytest.raises(AssertionError, match="did not finish"):
        check_helpers.call(stubborn, timeout=0.2)


def test_check_helpers_messages(check_helpers):
    ch = check_helpers
    with pytest.raises(AssertionError, match="forget to `return`"):
        ch.number(None, "f(1)")
    with pytest.raises(AssertionError, match="still `...`"):
        ch.array(..., "x")
    with pytest.raises(AssertionError, match="should be a number"):
        ch.number("1.5x", "x")
    with pytest.raises(AssertionError, match="single number"):
        ch.number([1.0, 2.0], "x")
    with pytest.raises(AssertionError, match="`x` should be an array of numbers, but it is a list"):
        ch.array(["a", 1.0], "x")
    with pytest.raises(AssertionError, match="should be a number, but it is a boolean"):
        ch.number(True, "x")
    with pytest.raises(AssertionError, match="should have shape \\(any, 2\\)"):
        ch.array(np.zeros((3, 3)), "x", shape=(None, 2))
    with pytest.raises(AssertionError, match="contains inf"):
        ch.array([1.0, np.inf], "x")
    with pytest.raises(AssertionError, match="hint text"):
        ch.close(1.0, 2.0, "x", hint="hint text")
    with pytest.raises(AssertionError, match="should be a function"):
        ch.call(3.0, name="f")
    assert ch.number(np.array([2.5]), "x") == 2.5
    assert ch.array([[1, 2]], "x", shape=(1, None)).shape == (1, 2)
    assert ch.call(lambda a, b=1: a + b, 1, b=2) == 3


def _check_in(global_environment, check):
    """Run ``check`` the way otter runs a test case: from a frame holding ``global_environment``."""
    return check()


def test_a_missing_name_says_undefined_or_which_error_its_cell_raised(check_helpers):
    ch = check_helpers
    ch.record_cell("theta_star = newton_fit(2.0, 0.1)", ZeroDivisionError("division by zero"))
    ch.record_cell("d_forward = 1.0\nother = None")
    ch.record_cell("with time_limit(60):\n    barrier = endless()", KeyboardInterrupt())
    env = {"other": None}
    with pytest.raises(AssertionError, match="`theta_star` is not defined: the last run of the cell that "
                                             "defines it stopped \\(it raised ZeroDivisionError: division by zero\\)"):
        _check_in(env, lambda: ch.number(None, "theta_star"))
    with pytest.raises(AssertionError, match="`barrier` is not defined: .*you interrupted it"):
        _check_in(env, lambda: ch.number(None, "barrier"))
    with pytest.raises(AssertionError, match="`d_forward` is not defined: run the cell that defines it"):
        _check_in(env, lambda: ch.number(None, "d_forward"))
    with pytest.raises(AssertionError, match="`other` is None: did you forget to `return`"):
        _check_in(env, lambda: ch.number(None, "other"))
    # a function the notebook does not define: the check's argument names it
    def check(kl_divergence):
        return ch.call(kl_divergence, [0.5, 0.5], [0.9, 0.1])

    ch.record_cell("def kl_divergence(p, q):\n    return 1 / 0", SyntaxError("invalid syntax"))
    with pytest.raises(AssertionError, match="`kl_divergence` is not defined: .*SyntaxError"):
        _check_in(env, lambda: check(None))
    ch.record_cell("def kl_divergence(p, q):\n    return 0.0")  # fixed and run again
    with pytest.raises(AssertionError, match="`kl_divergence` is not defined: run the cell"):
        _check_in(env, lambda: check(None))

    def unwritten(p, q):
        """Still the starter code."""
        ...

    with pytest.raises(AssertionError, match="`unwritten` is not written yet: its body is still `...`"):
        ch.call(unwritten, 1, 2)
    assert ch.call(lambda: 0.0) == 0.0  # a function that returns a constant is not a stub


def test_prerequisite_says_fix_the_earlier_question_first(check_helpers):
    ch = check_helpers
    ch.prerequisite("Q1", lambda x: (2 * x, np.ones(2)), (3.0,), (6.0, [1.0, 1.0]), name="f")
    for bad, reason in [(lambda x: 3 * x, "wrong values"), (lambda x: np.ones(3), "shape"),
                        (lambda x: np.nan, "NaN"), (lambda x: "text", "should be"),
                        (lambda x: 1 / 0, "raised ZeroDivisionError")]:
        with pytest.raises(AssertionError, match=f"uses your `f` from Q1, which does not work yet \\(.*{reason}.*"
                                                 "Fix Q1 first"):
            ch.prerequisite("Q1", bad, (3.0,), 6.0, name="f")


def test_time_limit_stops_an_endless_cell_with_a_message(check_helpers):
    start = time.perf_counter()
    with pytest.raises(TimeoutError, match="stopped after 0.2 s: .*endless loop"):
        with check_helpers.time_limit(0.2):
            while True:
                pass
    assert time.perf_counter() - start < 2
    with check_helpers.time_limit(5):
        assert sum(range(4)) == 6


def test_score_prints_points_per_question_and_total(assignments, solution_envs, capsys):
    from otter.test_files import GradingResults

    info = assignments["practice1_relative_entropy"]
    env = dict(solution_envs["practice1_relative_entropy"])
    env["slope"] = ...  # one question unanswered
    files = []
    for path in info["test_files"]:
        from otter.test_files import ExceptionTestFile

        test_file = ExceptionTestFile.from_file(str(path))
        test_file.run(env)
        files.append(test_file)
    import check_helpers

    earned, possible = check_helpers.score(GradingResults(files))
    text = capsys.readouterr().out
    assert (earned, possible) == (6.5, 7.0)  # q3: 3 of its 4 test cases pass, 0.5 points each
    assert re.search(r"q1\s+2 / 2\s+all checks passed", text), text
    assert re.search(r"q3\s+1.5 / 2\s+`slope` is still `...`", text), text
    assert re.search(r"total\s+6.5 / 7", text), text
    with pytest.raises(TypeError, match="grader.check_all"):
        check_helpers.score([1, 2])


def test_grader_check_in_a_plain_kernel(assignments, tmp_path):
    """The student's view: run the blank and the solved notebook in a Jupyter kernel."""
    import nbformat
    from nbclient import NotebookClient

    info = assignments["practice1_relative_entropy"]
    folder = info["student"].parent

    def run(notebook):
        client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(folder)}})
        client.execute()
        outputs = {}
        for cell in notebook.cells:
            if cell.cell_type == "code" and cell.source.startswith(("grader.check(", "check_helpers.score(")):
                text = "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
                               for o in cell.outputs)
                outputs[cell.source] = (text, [o.get("output_type") for o in cell.outputs])
        return outputs

    blank = run(nbformat.read(info["student"], as_version=4))
    score = blank.pop("check_helpers.score(grader.check_all());")[0]
    assert re.search(r"q1\s+0 / 2 .*\n.*\n.*\n.*\n-+\ntotal\s+0 / 7", score), score
    assert len(blank) == 4
    for source, (text, types) in blank.items():
        assert "error" not in types, source
        assert "Test case failed" in text and "AssertionError" in text, text
        assert "Traceback" not in text, text
    # paste the solution cells into the student's notebook: every check passes
    solved = nbformat.read(info["student"], as_version=4)
    solution = nbformat.read(info["solution"], as_version=4)
    solution_code = [c for c in solution.cells if c.cell_type == "code"]
    student_code = [c for c in solved.cells if c.cell_type == "code"]
    assert len(solution_code) == len(student_code)
    for mine, theirs in zip(student_code, solution_code):
        if not mine.source.startswith(("grader.", "# Initialize Otter")):
            mine.source = theirs.source
    passed = run(solved)
    assert re.search(r"total\s+7 / 7", passed.pop("check_helpers.score(grader.check_all());")[0])
    for source, (text, _) in passed.items():
        assert "passed" in text and "failed" not in text, text
    # an endless loop in the student's function: the check stops it and says so
    endless = nbformat.read(info["student"], as_version=4)
    where = next(i for i, c in enumerate(endless.cells) if c.source == 'grader.check("q1")')
    endless.cells.insert(where + 1, nbformat.v4.new_code_cell(  # then a right one, for the later questions
        "def kl_divergence(p, q):\n    p, q = np.asarray(p) / np.sum(p), np.asarray(q) / np.sum(q)\n"
        "    v = p > 0\n    return math.inf if np.any(q[v] == 0) else float(np.sum(p[v] * np.log(p[v] / q[v])))"))
    endless.cells.insert(where, nbformat.v4.new_code_cell("def kl_divergence(p, q):\n    while True:\n        pass"))
    # a cell that raised, and a guarded cell whose call never ends: the checks name the error
    answers = [c for c in endless.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    answers[1].source = "with time_limit(60):\n    d_forward = 0.1\n    d_backward = 1 / 0"
    answers[2].source = ("def smoothed_penalty(eps):\n    while True:\n        pass\n\n\n"
                         "with time_limit(1):\n    slope = smoothed_penalty(1e-3)")
    outputs = run(endless)
    text, types = outputs['grader.check("q1")']
    assert "error" not in types and "did not finish within 10 s" in text, text
    assert ("`d_backward` is not defined: the last run of the cell that defines it stopped (it raised "
            "ZeroDivisionError: division by zero)") in outputs['grader.check("q2")'][0]
    q3 = outputs['grader.check("q3")'][0]
    assert "`slope` is not defined: the last run of the cell that defines it stopped (it raised TimeoutError: " \
           "stopped after 1 s" in q3, q3


def test_a_missing_check_helpers_says_where_to_put_it(assignments, tmp_path):
    """Opened without check_helpers.py beside it, the notebook's first cell says what to do."""
    import nbformat
    from nbclient import NotebookClient

    info = assignments["practice2_pmf"]
    alone = tmp_path / info["student"].name
    alone.write_text(info["student"].read_text())
    notebook = nbformat.read(alone, as_version=4)
    notebook.cells = [c for c in notebook.cells if c.cell_type == "code"][:2]
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    (error,) = [o for o in notebook.cells[1].outputs if o.output_type == "error"]
    assert error.ename == "ModuleNotFoundError"
    assert "check_helpers.py is missing. It comes in the zip with this notebook: put it in the same folder" \
           in error.evalue, error.evalue


def test_student_bundle_has_notebook_and_helpers(assignments):
    for name, info in assignments.items():
        with zipfile.ZipFile(info["bundle"]) as archive:
            assert sorted(archive.namelist()) == sorted([f"{name}/{name}.ipynb", f"{name}/check_helpers.py"])
        notebook = json.loads(info["student"].read_text())
        init = "".join(notebook["cells"][0]["source"])
        assert f'otter.Notebook("{name}.ipynb")' in init
        sources = "".join("".join(c["source"]) for c in notebook["cells"])
        assert "BEGIN SOLUTION" not in sources and "# SOLUTION" not in sources
        assert "export" not in init
        # a Docker grader (Gradescope) installs what the practices import
        with zipfile.ZipFile(info["autograder"]) as archive:
            assert "numpy==" in archive.read("environment.yml").decode()
            assert "files/check_helpers.py" in archive.namelist()


def test_parts_message(check_helpers):
    with pytest.raises(AssertionError, match="tuple of 2 items, but it is a ndarray"):
        check_helpers.parts(np.zeros(2), "f()", 2)
    with pytest.raises(AssertionError, match="forget to `return`"):
        check_helpers.parts(None, "f()", 3)
    assert check_helpers.parts([1, 2, 3], "f()", 3) == (1, 2, 3)


def test_the_book_offers_each_practice_and_the_chapters_point_to_them(assignments):
    """book/practices: one page per practice (label practice-N) whose download is the zip that
    build.py writes into exercises/dist; the chapter pages link every practice."""
    pages = ROOT / "book" / "practices"
    index = (pages / "index.md").read_text()
    chapters = "".join(p.read_text() for part in ("principles", "applications")
                       for p in sorted((ROOT / "book" / part).glob("*.md")))
    for number, name in enumerate(PRACTICES, start=1):
        text = (pages / f"{name}.md").read_text()
        assert text.startswith(f"(practice-{number})=\n"), name
        (target,) = re.findall(r"\{download\}`[^`<]*<([^>`]+)>`", text)
        assert (pages / target).resolve() == (EXERCISES / "dist" / assignments[name]["bundle"].name).resolve()
        assert f"{{ref}}`practice-{number}`" in index
        assert f"{{ref}}`practice-{number}`" in chapters, f"no chapter page links practice-{number}"
