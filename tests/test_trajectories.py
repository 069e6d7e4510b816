"""Reading all-atom trajectories of other engines through MDAnalysis and mapping them to CG sites.

The oracle: molecules are built around centres of mass chosen first, their atoms wrapped into
the box (so molecules straddle the boundary), written by MDAnalysis's writers in each format
(and a LAMMPS dump written as LAMMPS writes it), read back and mapped; the sites must be the
chosen centres to the precision of the format.
"""
import os
import subprocess
import tracemalloc

import MDAnalysis as mda
import numpy as np
import pytest

from engine_helpers import require_lmp
from remlib.trajectories import (
    iter_cg_frames,
    load_universe,
    mapping_from_selections,
    mapping_per_molecule,
    read_cg_trajectory,
)

BOX = np.array([12.0, 14.0, 16.0])
MASSES = np.array([15.999, 1.008, 1.008])  # one water-like molecule
N_MOLECULES = 20
N_FRAMES = 3


def _molecules(rng, n_molecules=N_MOLECULES, n_frames=N_FRAMES, box=BOX):
    """Centres of mass (n_frames, n_molecules, 3) in [0, L) and wrapped atom positions."""
    centers = rng.uniform(0.0, 1.0, (n_frames, n_molecules, 3)) * box
    centers[:, 0, 0] = 0.05  # molecule 0 straddles the x = 0 face in every frame
    offsets = rng.normal(0.0, 0.6, (n_frames, n_molecules, 3, 3))
    offsets -= np.einsum("a,fmad->fmd", MASSES / MASSES.sum(), offsets)[:, :, None, :]
    atoms = (centers[:, :, None, :] + offsets).reshape(n_frames, -1, 3)
    return centers, atoms - box * np.floor(atoms / box)


def _universe(atoms, box=BOX):
    n_frames, n_atoms, _ = atoms.shape
    u = mda.Universe.empty(n_atoms, n_residues=n_atoms // 3, atom_resindex=np.repeat(np.arange(n_atoms // 3), 3),
                           trajectory=True)
    u.add_TopologyAttr("names", ["OW", "HW1", "HW2"] * (n_atoms // 3))
    u.add_TopologyAttr("types", ["O", "H", "H"] * (n_atoms // 3))
    u.add_TopologyAttr("resnames", ["SOL"] * (n_atoms // 3))
    u.add_TopologyAttr("resids", np.arange(1, n_atoms // 3 + 1))
    u.add_TopologyAttr("masses", np.tile(MASSES, n_atoms // 3))
    u.load_new(atoms.astype(np.float32), order="fac", dimensions=np.r_[box, 90.0, 90.0, 90.0])
    return u


def _write(u, path):
    with mda.Writer(str(path), n_atoms=u.atoms.n_atoms) as writer:
        for _ in u.trajectory:
            writer.write(u.atoms)


def _lammps_dump(path, atoms, box=BOX):
    """A LAMMPS text dump (`dump custom id type x y z`), frame by frame, as LAMMPS writes it."""
    with open(path, "w") as handle:
        for step, frame in enumerate(atoms):
            handle.write(f"ITEM: TIMESTEP\n{step * 100}\nITEM: NUMBER OF ATOMS\n{len(frame)}\n"
                         "ITEM: BOX BOUNDS pp pp pp\n")
            handle.write("".join(f"0 {edge}\n" for edge in box))
            handle.write("ITEM: ATOMS id type x y z\n")
            handle.write("".join(f"{i + 1} {1 + (i % 3 > 0)} {x:.6f} {y:.6f} {z:.6f}\n"
                                 for i, (x, y, z) in enumerate(frame)))


def _site_error(sites, centers, box):
    d = sites - centers
    d -= box * np.round(d / box)
    return np.abs(d).max()


@pytest.mark.parametrize("suffix, tolerance", [("dcd", 1e-4), ("xtc", 2e-2), ("trr", 1e-4), ("pdb", 2e-3),
                                               ("gro", 2e-2)])
def test_centres_of_mass_from_each_format(tmp_path, suffix, tolerance):
    centers, atoms = _molecules(np.random.default_rng(1))
    u = _universe(atoms)
    topology = tmp_path / "top.gro"
    u.atoms.write(str(topology))
    path = tmp_path / f"traj.{suffix}"
    if suffix in ("pdb", "gro"):  # single-frame formats here (MDAnalysis keeps one box per PDB, one GRO frame)
        u.trajectory[0]
        u.atoms.write(str(path))
    else:
        _write(u, path)
    read = load_universe(topology, path) if suffix not in ("pdb", "gro") else load_universe(path)
    read.add_TopologyAttr("masses", np.tile(MASSES, N_MOLECULES))  # GRO/PDB masses are guessed roughly
    cg = read_cg_trajectory(read, mapping_per_molecule(read, "resname SOL"))
    n_read = cg.frames.shape[0]
    assert cg.frames.shape == (n_read, N_MOLECULES, 3) and n_read >= 1
    np.testing.assert_allclose(cg.box, BOX, rtol=1e-5)
    assert _site_error(cg.frames, centers[:n_read], BOX) < tolerance
    assert np.all((cg.frames >= 0) & (cg.frames < BOX))


def test_lammps_dump(tmp_path):
    centers, atoms = _molecules(np.random.default_rng(2))
    path = tmp_path / "traj.dump"
    _lammps_dump(path, atoms)
    u = load_universe(path, format="LAMMPSDUMP", topology_format="LAMMPSDUMP")
    selections = [f"id {3 * k + 1}:{3 * k + 3}" for k in range(N_MOLECULES)]
    u.add_TopologyAttr("masses", np.tile(MASSES, N_MOLECULES))
    cg = read_cg_trajectory(u, mapping_from_selections(u, selections))
    assert cg.frames.shape == (N_FRAMES, N_MOLECULES, 3)
    assert _site_error(cg.frames, centers, BOX) < 1e-5


def test_dump_written_by_lammps(tmp_path):
    """LAMMPS itself writes the dump of a lattice it creates; the sites are its lattice points."""
    require_lmp()
    script = tmp_path / "in.lattice"
    script.write_text("units lj\natom_style atomic\nboundary p p p\nlattice sc 1.0\n"
                      "region box block 0 4 0 4 0 4\ncreate_box 1 box\ncreate_atoms 1 box\nmass 1 1.0\n"
                      "write_dump all custom lattice.dump id type x y z modify sort id\n")
    subprocess.run(["lmp", "-in", script.name, "-log", "none", "-screen", "none"], cwd=tmp_path, check=True,
                   timeout=120)
    u = load_universe(tmp_path / "lattice.dump", format="LAMMPSDUMP", topology_format="LAMMPSDUMP")
    cg = read_cg_trajectory(u, mapping_from_selections(u, ["all"], center="geometry"))
    assert u.atoms.n_atoms == 64
    # the centre of geometry of a whole periodic lattice is ill-defined, so map single atoms instead
    single = read_cg_trajectory(u, mapping_from_selections(u, [f"id {i}" for i in range(1, 65)],
                                                           center="geometry"))
    lattice = np.stack(np.meshgrid(*[np.arange(4.0)] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    got = {tuple(row) for row in np.round(single.frames[0], 6)}
    assert got == {tuple(row) for row in lattice}
    assert cg.frames.shape == (1, 1, 3)


def test_geometry_and_mass_centres_differ_as_expected():
    atoms = np.array([[[1.0, 1.0, 1.0], [2.0, 1.0, 1.0], [1.0, 2.0, 1.0]]])
    u = _universe(atoms)
    mass = read_cg_trajectory(u, mapping_per_molecule(u)).frames[0, 0]
    geometry = read_cg_trajectory(u, mapping_per_molecule(u, center="geometry")).frames[0, 0]
    np.testing.assert_allclose(geometry, [4 / 3, 4 / 3, 1.0], atol=1e-6)
    np.testing.assert_allclose(mass, (MASSES @ atoms[0]) / MASSES.sum(), atol=1e-6)


def test_fragments_from_bonds():
    centers, atoms = _molecules(np.random.default_rng(3), n_frames=1)
    u = _universe(atoms)
    u.add_TopologyAttr("bonds", [(3 * k, 3 * k + j) for k in range(N_MOLECULES) for j in (1, 2)])
    cg = read_cg_trajectory(u, mapping_per_molecule(u, by="fragments"))
    assert _site_error(cg.frames, centers, BOX) < 1e-4


def test_length_unit_and_frame_slicing():
    centers, atoms = _molecules(np.random.default_rng(4), n_frames=4)
    u = _universe(atoms)
    cg = read_cg_trajectory(u, mapping_per_molecule(u), start=1, step=2, length=2.0)
    assert cg.frames.shape[0] == 2
    np.testing.assert_allclose(cg.box, BOX / 2)
    assert _site_error(cg.frames, centers[1::2] / 2, BOX / 2) < 1e-4


def test_streaming_holds_one_frame(tmp_path):
    """Mapping a 40 MB DCD allocates far less than the file (frames are read one at a time)."""
    rng = np.random.default_rng(5)
    n_atoms, n_frames = 30_000, 110
    u = mda.Universe.empty(n_atoms, n_residues=n_atoms // 3, atom_resindex=np.repeat(np.arange(n_atoms // 3), 3),
                           trajectory=True)
    path = tmp_path / "big.dcd"
    with mda.Writer(str(path), n_atoms=n_atoms) as writer:
        for _ in range(n_frames):
            u.atoms.positions = rng.uniform(0, 30.0, (n_atoms, 3))
            u.dimensions = [30.0, 30.0, 30.0, 90.0, 90.0, 90.0]
            writer.write(u.atoms)
    assert os.path.getsize(path) > 35e6
    read = mda.Universe.empty(n_atoms, n_residues=n_atoms // 3,
                              atom_resindex=np.repeat(np.arange(n_atoms // 3), 3))
    read.load_new(str(path))
    mapping = mapping_per_molecule(read, center="geometry")
    tracemalloc.start()
    count = sum(1 for _ in iter_cg_frames(read, mapping))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == n_frames
    assert peak < 5e6


# ----------------------------------------------------------------------------- bad input
def test_missing_box_is_named(tmp_path):
    path = tmp_path / "nobox.pdb"
    path.write_text("ATOM      1  OW  SOL     1       1.000   1.000   1.000  1.00  0.00           O\nEND\n")
    u = load_universe(path)
    with pytest.raises(ValueError, match="no periodic box"):
        read_cg_trajectory(u, mapping_per_molecule(u, center="geometry"))


def test_selection_errors():
    u = _universe(_molecules(np.random.default_rng(6), n_frames=1)[1])
    with pytest.raises(ValueError, match=r"selections\[1\] = 'resname XYZ' matches no atoms"):
        mapping_from_selections(u, ["resid 1", "resname XYZ"])
    with pytest.raises(ValueError, match="not a valid MDAnalysis selection"):
        mapping_from_selections(u, ["resid ((("])
    with pytest.raises(ValueError, match="matches no atoms"):
        mapping_per_molecule(u, "name XX")
    with pytest.raises(TypeError, match="selections must be a non-empty list"):
        mapping_from_selections(u, "resid 1")
    with pytest.raises(ValueError, match="center must be one of"):
        mapping_per_molecule(u, center="charge")
    with pytest.raises(ValueError, match="needs bonds"):
        mapping_per_molecule(u, by="fragments")
    with pytest.raises(TypeError, match="universe must be an MDAnalysis.Universe"):
        mapping_per_molecule("traj.xtc")


def test_zero_masses_are_refused():
    u = _universe(_molecules(np.random.default_rng(7), n_frames=1)[1])
    u.atoms.masses = 0.0
    with pytest.raises(ValueError, match="zero or unknown mass"):
        mapping_per_molecule(u)


def test_changing_or_triclinic_box_is_refused():
    _, atoms = _molecules(np.random.default_rng(8), n_frames=2)
    u = _universe(atoms)
    mapping = mapping_per_molecule(u)
    boxes = [np.r_[BOX, 90, 90, 90], np.r_[BOX * 1.01, 90, 90, 90]]
    u.load_new(atoms.astype(np.float32), order="fac", dimensions=np.array(boxes))
    with pytest.raises(ValueError, match="the box changes between frames"):
        read_cg_trajectory(u, mapping)
    u.load_new(atoms.astype(np.float32), order="fac", dimensions=np.r_[BOX, 90, 80, 90])
    with pytest.raises(ValueError, match="triclinic"):
        read_cg_trajectory(u, mapping)


def test_missing_files_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_universe(tmp_path / "absent.gro")
    broken = tmp_path / "broken.gro"
    broken.write_text("not a gro file\n")
    with pytest.raises(ValueError, match="MDAnalysis could not read"):
        load_universe(broken)
    with pytest.raises(TypeError, match="topology must be a file path"):
        load_universe(3)


def test_frame_arguments_are_checked():
    u = _universe(_molecules(np.random.default_rng(9), n_frames=2)[1])
    mapping = mapping_per_molecule(u)
    with pytest.raises(ValueError, match="no frames selected"):
        read_cg_trajectory(u, mapping, start=5)
    with pytest.raises(TypeError, match="step must be an integer"):
        read_cg_trajectory(u, mapping, step=1.5)
    with pytest.raises(ValueError, match="length must be a finite number > 0"):
        read_cg_trajectory(u, mapping, length=0.0)
    with pytest.raises(TypeError, match="mapping must be a CGMapping"):
        read_cg_trajectory(u, None)
