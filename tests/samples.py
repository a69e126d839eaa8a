"""Where the real Sentinel-2B sample products live, and helpers to make broken variants of them.

The samples are copied unchanged into ``tests/data/s2-samples`` (see SOURCE.md there) so a
clean clone has them; ``PRIP_SAMPLES_DIR`` points the tests at another set.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

SAMPLES_DIR = Path(
    os.environ.get("PRIP_SAMPLES_DIR", Path(__file__).parent / "data" / "s2-samples")
)
GRANULE = "S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D04_N05.11"
DATASTRIP = "S2B_OPER_MSI_L0__DS_2BPS_20250801T074015_S20250801T070620_N05.11"
TILE = "S2B_OPER_MSI_L2A_TL_2BPS_20250801T074829_A043890_T47XMH_N05.11"


def sample(stem: str) -> Path:
    return SAMPLES_DIR / f"{stem}.tar"


def copy_sample(stem: str, directory: Path) -> Path:
    """A writable copy (ingestion removes inbox products; the samples stay untouched)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{stem}.tar"
    shutil.copyfile(sample(stem), target)
    return target


def extract_sample(stem: str, directory: Path) -> Path:
    """The sample as a PDI folder under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sample(stem)) as archive:
        archive.extractall(directory, filter="data")
    return directory / stem


def retar(folder: Path, target: Path, *, gzip: bool = False) -> Path:
    """Pack a (possibly edited) PDI folder back into an archive named ``target``."""
    with tarfile.open(target, "w:gz" if gzip else "w") as archive:
        archive.add(folder, arcname=folder.name)
    return target


def tar_with(target: Path, members: dict[str, bytes]) -> Path:
    """A tar holding exactly ``members`` (path → content), hostile paths included."""
    with tarfile.open(target, "w") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return target


def drop(source: Path, inbox: Path, name: str | None = None) -> Path:
    """Deliver ``source`` into ``inbox`` as a production chain does: write under a hidden
    name, then rename, so the ingestor never sees a half-written product."""
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / (name or source.name)
    partial = inbox / f".{target.name}.part"
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target
