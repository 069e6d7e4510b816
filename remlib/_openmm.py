"""OpenMM access shared by the modules that simulate with it (:mod:`remlib.peptide`, :mod:`remlib.water`)."""
import numpy as np

from remlib._validation import as_generator, unwrap_0d

__all__ = ["import_openmm", "openmm_seed", "choose_platform", "resolve_platform", "platform_properties"]


def import_openmm():
    """The ``openmm`` package with its ``app`` and ``unit`` modules.

    Returns
    -------
    openmm, app, unit : module

    Raises
    ------
    ImportError
        If OpenMM is not installed (it is pinned in ``requirements.txt``).

    Examples
    --------
    >>> openmm, app, unit = import_openmm()
    >>> unit.nanometer.get_name()
    'nanometer'
    """
    try:
        import openmm
        from openmm import app, unit
    except ImportError as exc:  # pragma: no cover - openmm is pinned in requirements.txt
        raise ImportError("remlib's OpenMM simulations need openmm (pip install openmm)") from exc
    return openmm, app, unit


def openmm_seed(seed):
    """An int in [0, 2**31 - 1) for OpenMM's random numbers from ``seed``.

    An int is used as is; a Generator or None draws one, so such runs are reproducible
    only through that Generator.

    Parameters
    ----------
    seed : None, int or numpy.random.Generator

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If an int seed lies outside [0, 2**31 - 1).
    TypeError
        If ``seed`` is neither None, an int nor a Generator.

    Examples
    --------
    >>> openmm_seed(7), 0 <= openmm_seed(np.random.default_rng(0)) < 2**31 - 1
    (7, True)
    """
    seed = unwrap_0d(seed)  # a 0-d array stands for its int (not a fresh random seed)
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if not 0 <= seed < 2**31 - 1:
            raise ValueError(f"seed must be in [0, 2**31 - 1) for OpenMM, got {seed}")
        return int(seed)
    return int(as_generator(seed).integers(0, 2**31 - 1))


def choose_platform(names):
    """The fastest OpenMM platform among ``names``: CUDA, HIP, OpenCL, CPU, then Reference.

    Examples
    --------
    >>> choose_platform(["Reference", "CPU", "OpenCL"]), choose_platform(["Reference", "CPU"])
    ('OpenCL', 'CPU')
    """
    for name in ("CUDA", "HIP", "OpenCL", "CPU", "Reference"):
        if name in names:
            return name
    raise RuntimeError(f"OpenMM offers no usable platform (found {list(names)})")


def resolve_platform(platform):
    """The OpenMM platform ``platform`` if it is installed, or the fastest installed one for ``None``.

    Parameters
    ----------
    platform : str or None

    Returns
    -------
    str
        A platform name of the installed OpenMM.

    Raises
    ------
    ValueError
        If ``platform`` is not one of the installed platforms.

    Examples
    --------
    >>> resolve_platform("CPU"), resolve_platform(None) in ("CUDA", "HIP", "OpenCL", "CPU")
    ('CPU', True)
    """
    openmm, _, _ = import_openmm()
    available = [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]
    if platform is None:
        return choose_platform(available)
    if platform not in available:
        raise ValueError(f"platform must be None or one of the OpenMM platforms here {available}, got {platform!r}")
    return platform


def platform_properties(platform, reproducible):
    """Context properties of an OpenMM platform, for runs that a seed reproduces bit for bit.

    OpenMM's CPU, CUDA, OpenCL and HIP platforms add forces in an order that changes from
    run to run (threads finish in any order), so two runs with the same seed drift apart
    after a few steps and the energy minimiser ends in different places.  With
    ``reproducible=True`` the forces are summed in a fixed order (``DeterministicForces``,
    where the platform has it) and the CPU platform uses one thread: the same seed then
    gives the same numbers, at the price of the other cores on the CPU platform.
    ``reproducible=False`` keeps OpenMM's defaults (every core; runs with the same seed
    agree only statistically).

    Parameters
    ----------
    platform : openmm.Platform
    reproducible : bool

    Returns
    -------
    dict
        Property names and values (strings) for ``openmm.Context``.

    Examples
    --------
    >>> openmm, _, _ = import_openmm()
    >>> platform_properties(openmm.Platform.getPlatformByName("CPU"), True)
    {'Threads': '1', 'DeterministicForces': 'true'}
    >>> platform_properties(openmm.Platform.getPlatformByName("CPU"), False)
    {}
    """
    if not reproducible:
        return {}
    wanted = {"Threads": "1"} if platform.getName() == "CPU" else {}
    wanted["DeterministicForces"] = "true"
    names = set(platform.getPropertyNames())
    return {name: value for name, value in wanted.items() if name in names}
