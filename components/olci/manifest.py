"""The SAFE manifest (`xfdumanifest.xml`): product metadata and the list of data files.

Reading takes what the reader needs from the metadata section. Writing either builds a fresh
manifest or updates the source product's own, so that metadata we do not interpret survives; in
both cases every data file is listed with its size and MD5, which `verify_product` checks.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from components.olci.errors import CorruptFileError
from components.olci.format import MANIFEST

NS = {
    "xfdu": "urn:ccsds:schema:xfdu:1",
    "gml": "http://www.opengis.net/gml",
    "sentinel-safe": "http://www.esa.int/safe/sentinel/1.1",
    "sentinel3": "http://www.esa.int/safe/sentinel/sentinel-3/1.0",
    "olci": "http://www.esa.int/safe/sentinel/sentinel-3/olci/1.0",
}


@dataclass(frozen=True)
class ManifestInfo:
    """Product metadata as the manifest states it (fields absent from a file are None)."""

    product_name: str | None = None
    product_type: str | None = None
    platform: str | None = None
    start_time: str | None = None
    stop_time: str | None = None
    creation_time: str | None = None
    collection: str | None = None
    timeliness: str | None = None
    rows: int | None = None
    columns: int | None = None


def read_manifest(folder: Path) -> ManifestInfo:
    """Metadata from `folder/xfdumanifest.xml`.

    Raises:
        CorruptFileError: the manifest is not well-formed XML.
    """
    path = folder / MANIFEST
    return manifest_info(path.read_bytes(), path)


def manifest_info(data: bytes, path: str | Path) -> ManifestInfo:
    """Metadata from the manifest's bytes, read from `path` (named in errors).

    Raises:
        CorruptFileError: the manifest is not well-formed XML.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise CorruptFileError(path, f"manifest is not well-formed XML ({err})") from None

    def text(xpath: str) -> str | None:
        node = root.find(xpath, NS)
        return node.text.strip() if node is not None and node.text else None

    family = text(".//sentinel-safe:platform/sentinel-safe:familyName")
    number = text(".//sentinel-safe:platform/sentinel-safe:number")
    rows = text(".//olci:imageSize/sentinel3:numberOfLines")
    columns = text(".//olci:imageSize/sentinel3:numberOfElements")
    return ManifestInfo(
        product_name=text(".//sentinel3:generalProductInformation/sentinel3:productName"),
        product_type=text(".//sentinel3:generalProductInformation/sentinel3:productType"),
        platform=f"{family}{number}" if family and number else None,
        start_time=text(".//sentinel-safe:acquisitionPeriod/sentinel-safe:startTime"),
        stop_time=text(".//sentinel-safe:acquisitionPeriod/sentinel-safe:stopTime"),
        creation_time=text(".//sentinel3:generalProductInformation/sentinel3:creationTime"),
        collection=text(".//sentinel3:generalProductInformation/sentinel3:baselineCollection"),
        timeliness=text(".//sentinel3:generalProductInformation/sentinel3:timeliness"),
        rows=int(rows) if rows else None,
        columns=int(columns) if columns else None,
    )


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _q(prefix: str, tag: str) -> str:
    return f"{{{NS[prefix]}}}{tag}" if prefix else tag


def _register_namespaces(path: Path) -> None:
    for _, (prefix, uri) in ET.iterparse(path, events=("start-ns",)):
        ET.register_namespace(prefix, uri)


def _data_object(parent: ET.Element, file_name: str, folder: Path) -> None:
    stem = Path(file_name).stem
    obj = ET.SubElement(parent, "dataObject", ID=f"{stem}Data")
    stream = ET.SubElement(
        obj,
        "byteStream",
        mimeType="application/x-netcdf",
        size=str((folder / file_name).stat().st_size),
    )
    ET.SubElement(stream, "fileLocation", locatorType="URL", href=f"./{file_name}")
    ET.SubElement(stream, "checksum", checksumName="MD5").text = _md5(folder / file_name)


def _data_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != MANIFEST)


def write_manifest(folder: Path, info: ManifestInfo, footprint: str = "") -> None:
    """Write a fresh manifest for the data files in `folder`.

    Args:
        folder: the product folder, with its data files already written.
        info: the metadata to state.
        footprint: a GML posList ("lat lon lat lon ...") of the product outline.
    """
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(_q("xfdu", "XFDU"), version="esa/safe/sentinel/sentinel-3/olci/level-2/1.0")
    package = ET.SubElement(root, "informationPackageMap")
    unit = ET.SubElement(
        package,
        _q("xfdu", "contentUnit"),
        unitType="Information Package",
        textInfo="SENTINEL-3 OLCI Level 2 Water Product",
    )
    files = _data_files(folder)
    for name in files:
        stem = Path(name).stem
        child = ET.SubElement(unit, _q("xfdu", "contentUnit"), unitType="Measurement Data Unit")
        ET.SubElement(child, "dataObjectPointer", dataObjectID=f"{stem}Data")

    meta = ET.SubElement(root, "metadataSection")

    def wrap(object_id: str, text_info: str) -> ET.Element:
        obj = ET.SubElement(
            meta, "metadataObject", ID=object_id, classification="DESCRIPTION", category="DMD"
        )
        w = ET.SubElement(
            obj, "metadataWrap", mimeType="text/xml", vocabularyName="Sentinel-SAFE",
            textInfo=text_info,
        )  # fmt: skip
        return ET.SubElement(w, "xmlData")

    period = ET.SubElement(
        wrap("acquisitionPeriod", "Acquisition Period"), _q("sentinel-safe", "acquisitionPeriod")
    )
    ET.SubElement(period, _q("sentinel-safe", "startTime")).text = info.start_time
    ET.SubElement(period, _q("sentinel-safe", "stopTime")).text = info.stop_time

    platform = ET.SubElement(
        wrap("platform", "Platform Description"), _q("sentinel-safe", "platform")
    )
    family, number = (info.platform or "Sentinel-3A")[:-1], (info.platform or "Sentinel-3A")[-1]
    ET.SubElement(platform, _q("sentinel-safe", "familyName")).text = family
    ET.SubElement(platform, _q("sentinel-safe", "number")).text = number
    instrument = ET.SubElement(platform, _q("sentinel-safe", "instrument"))
    ET.SubElement(
        instrument, _q("sentinel-safe", "familyName"), abbreviation="OLCI"
    ).text = "Ocean Land Colour Instrument"

    general = ET.SubElement(
        wrap("generalProductInformation", "General Product Information"),
        _q("sentinel3", "generalProductInformation"),
    )
    for tag, value in (
        ("productName", info.product_name),
        ("productType", info.product_type),
        ("timeliness", info.timeliness),
        ("baselineCollection", info.collection),
        ("creationTime", info.creation_time),
    ):
        ET.SubElement(general, _q("sentinel3", tag)).text = value

    if footprint:
        frame = ET.SubElement(
            wrap("measurementFrameSet", "Frame Set"), _q("sentinel-safe", "frameSet")
        )
        foot = ET.SubElement(frame, _q("sentinel-safe", "footPrint"))
        ET.SubElement(foot, _q("gml", "posList")).text = footprint

    olci = ET.SubElement(
        wrap("olciProductInformation", "OLCI Product Information"),
        _q("olci", "olciProductInformation"),
    )
    size = ET.SubElement(olci, _q("olci", "imageSize"), grid="Full Resolution")
    ET.SubElement(size, _q("sentinel3", "numberOfLines")).text = str(info.rows)
    ET.SubElement(size, _q("sentinel3", "numberOfElements")).text = str(info.columns)

    section = ET.SubElement(root, "dataObjectSection")
    for name in files:
        _data_object(section, name, folder)
    ET.indent(root)
    ET.ElementTree(root).write(folder / MANIFEST, encoding="UTF-8", xml_declaration=True)


def update_manifest(source_manifest: Path, folder: Path) -> None:
    """Copy `source_manifest` into `folder`, listing the folder's files with fresh sizes and MD5s.

    Entries for files the folder lacks are dropped; files new to the folder are added.
    """
    _register_namespaces(source_manifest)
    tree = ET.parse(source_manifest)
    root = tree.getroot()
    section = root.find("dataObjectSection")
    if section is None:
        section = ET.SubElement(root, "dataObjectSection")
    for obj in list(section):
        section.remove(obj)
    for name in _data_files(folder):
        _data_object(section, name, folder)
    ET.indent(root)
    tree.write(folder / MANIFEST, encoding="UTF-8", xml_declaration=True)


def manifest_entries(text: str | bytes) -> list[tuple[str, int | None, str | None]]:
    """(relative path, size, MD5) of every file a manifest lists.

    Raises:
        ET.ParseError: the manifest is not well-formed XML.
    """
    entries = []
    for stream in ET.fromstring(text).iter("byteStream"):
        location = stream.find("fileLocation")
        if location is None:
            continue
        checksum = stream.find("checksum")
        size = stream.get("size")
        md5 = checksum.text.strip() if checksum is not None and checksum.text else None
        entries.append((location.get("href", "").removeprefix("./"), _int(size), md5))
    return entries


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def verify_product(folder: Path) -> list[str]:
    """Problems found checking every file the manifest lists against its size and MD5.

    An empty list means the product is complete and intact.
    """
    path = folder / MANIFEST
    if not path.is_file():
        return [f"{path}: manifest missing"]
    try:
        entries = manifest_entries(path.read_bytes())
    except ET.ParseError as err:
        return [f"{path}: manifest is not well-formed XML ({err})"]
    problems = []
    for name, size, md5 in entries:
        target = folder / name
        if not target.is_file():
            problems.append(f"{target}: listed in the manifest but missing")
        elif size is not None and size != target.stat().st_size:
            problems.append(f"{target}: size {target.stat().st_size} != manifest {size}")
        elif md5 is not None and md5 != _md5(target):
            problems.append(f"{target}: MD5 differs from the manifest")
    return problems
