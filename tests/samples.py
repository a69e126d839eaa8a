"""Where the real Sentinel-2B sample products live, and helpers to make broken variants of them.

The samples are copied unchanged into ``tests/data/s2-samples`` (see SOURCE.md there) so a
clean clone has them; ``PRIP_SAMPLES_DIR`` points the tests at another set.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tarfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prip_ray.bootstrap import Components

SAMPLES_DIR = Path(
    os.environ.get("PRIP_SAMPLES_DIR", Path(__file__).parent / "data" / "s2-samples")
)
GRANULE = "S2B_OPER_MSI_L0__GR_2BPS_20250801T074015_S20250801T070620_D04_N05.11"
DATASTRIP = "S2B_OPER_MSI_L0__DS_2BPS_20250801T074015_S20250801T070620_N05.11"
TILE = "S2B_OPER_MSI_L2A_TL_2BPS_20250801T074829_A043890_T47XMH_N05.11"
# The true-colour product of TILE's tile and sensing (no real one among the samples).
TRUE_COLOUR = "S2B_OPER_MSI_L2A_TC_2BPS_20250801T074829_A043890_T47XMH_N05.11.jp2"


def publish_samples(components: Components) -> None:
    """Every sample ingested through ``components``, each asserted published (the samples
    themselves stay untouched: copies go into the inbox)."""
    inbox = components.settings.inbox
    inbox.mkdir(parents=True, exist_ok=True)
    for found in sorted(SAMPLES_DIR.glob("S2B_*.tar")):
        outcome = components.ingest.ingest(shutil.copy(found, inbox / found.name))
        assert outcome.status == "published", outcome.reason


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


def zip_sample(stem: str, directory: Path, stored: tuple[str, ...] = (".jp2",)) -> Path:
    """The real sample as a zip, as a zip tool packs a product: files ending in ``stored``
    kept as they are (images: already compressed), everything else deflated; folders have
    entries of their own."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{stem}.zip"
    with tarfile.open(sample(stem)) as source, zipfile.ZipFile(target, "w") as archive:
        for member in source:
            if member.isdir():
                archive.writestr(f"{member.name}/", b"")
                continue
            kept = member.name.endswith(stored)
            method = zipfile.ZIP_STORED if kept else zipfile.ZIP_DEFLATED
            content = source.extractfile(member).read()  # type: ignore[union-attr]
            archive.writestr(member.name, content, compress_type=method)
    return target


def true_colour_image(directory: Path, image: bytes) -> Path:
    """A TC product of the sample tile's tile and sensing: ``image`` as its jp2."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / TRUE_COLOUR
    target.write_bytes(image)
    return target


def tar_with(target: Path, members: dict[str, bytes]) -> Path:
    """A tar holding exactly ``members`` (path → content), hostile paths included."""
    with tarfile.open(target, "w") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return target


def tile_with_preview(directory: Path, preview: bytes) -> Path:
    """The real tile with its preview image put back (the sample was stripped of it):
    ``preview`` as QI_DATA/<tile>_PVI.jp2, its size and SHA3-256 in manifest.safe, so QC
    accepts it. A plain tar, as a PDI folder is published."""
    folder = extract_sample(TILE, directory / "unpacked")
    name = "T47XMH_20250801T070619_PVI.jp2"
    (folder / "QI_DATA" / name).write_bytes(preview)
    manifest = folder / "manifest.safe"
    text = manifest.read_text(encoding="utf-8")
    entry = re.compile(
        r'(<byteStream mimeType="image/jpeg" size=")\d+(">\s*<fileLocation href="\./QI_DATA/'
        + re.escape(name)
        + r'" locatorType="URL"/>\s*<checksum checksumName="SHA3-256">)[0-9A-F]+'
    )
    digest = hashlib.sha3_256(preview).hexdigest().upper()
    text, found = entry.subn(rf"\g<1>{len(preview)}\g<2>{digest}", text)
    assert found == 1, "the tile's manifest no longer lists its PVI as expected"
    manifest.write_text(text, encoding="utf-8")
    return retar(folder, directory / f"{TILE}.tar")


def drop(source: Path, inbox: Path, name: str | None = None) -> Path:
    """Deliver ``source`` into ``inbox`` as a production chain does: write under a hidden
    name, then rename, so the ingestor never sees a half-written product."""
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / (name or source.name)
    partial = inbox / f".{target.name}.part"
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target
