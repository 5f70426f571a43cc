"""Registration on the synthetic patient: recovery of a known pose change, dose agreement, time.

Renders the post-treatment PET/CT with the patient moved (3, -2, 4 degrees; 12, -10, 15 mm)
in a new frame of reference, registers its CT to the planning CT (rigid, and deformable), and
prints the error at the liver's voxels, the angles, the runtime on one thread, and the mean
dose per structure verified on the moved study against the same study in register.

    python benchmarks/registration.py [--size 1.0] [--noise] [--no-doses]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import yaml

from opensirt.demo.case import demo_case
from opensirt.demo.dicom import write_phantom_dicom
from opensirt.demo.moved import moved_posttreatment, write_moved_posttreatment
from opensirt.demo.phantom import make_phantom
from opensirt.imaging.registration import RegistrationMethod, register_ct
from opensirt.planning import load_case
from opensirt.workflow.posttreatment import verify_case
from opensirt.workflow.pretreatment import plan_from_images

ROTATION_DEG = (3.0, -2.0, 4.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=1.0, help="phantom scale (0.25-1)")
    parser.add_argument("--noise", action="store_true", help="Poisson counts in the PETs")
    parser.add_argument("--no-doses", action="store_true", help="registration only")
    args = parser.parse_args()
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    patient = make_phantom(seed=1, size=args.size)
    moved = moved_posttreatment(patient, rotation_deg=ROTATION_DEG, noise=args.noise)
    liver = patient.structures.get("Liver")
    points = liver.index_to_physical(np.argwhere(np.asarray(liver.array))[:, ::-1].astype(float))
    truth = moved.to_new_frame(points)
    for method in (RegistrationMethod.RIGID, RegistrationMethod.DEFORMABLE):
        start = time.perf_counter()
        result = register_ct(patient.ct, liver, moved.ct, method=method)
        seconds = time.perf_counter() - start
        found = np.array([result.transform.TransformPoint(tuple(map(float, p))) for p in points])
        error = np.linalg.norm(found - truth, axis=1)
        angles = np.subtract(result.rotation_deg, ROTATION_DEG)
        print(
            f"{method.value:10s} {seconds:5.2f} s (1 thread), {result.iterations} iterations; "
            f"liver points: error mean {error.mean():.2f} mm, max {error.max():.2f} mm; "
            f"angle errors {np.round(angles, 3)} deg"
        )
    if args.no_doses:
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        paths = write_phantom_dicom(patient, root / "dicom")
        in_register = moved_posttreatment(
            patient,
            rotation_deg=(0, 0, 0),
            translation_mm=(0, 0, 0),
            new_frame=False,
            noise=args.noise,
        )
        moved_ct, moved_pet = write_moved_posttreatment(moved, patient, root / "moved")
        _, register_pet = write_moved_posttreatment(in_register, patient, root / "in_register")
        base = demo_case(patient, paths, root)
        cases = {}
        for name, images in (
            ("in register", {"post_treatment": str(register_pet)}),
            ("moved", {"post_treatment": str(moved_pet), "post_ct": str(moved_ct)}),
        ):
            data = yaml.safe_load(yaml.safe_dump(base))
            data["images"].update(images)
            path = root / f"{name.replace(' ', '_')}.yaml"
            path.write_text(yaml.safe_dump(data))
            cases[name] = load_case(path)
        pre = plan_from_images(cases["in register"])
        reference = verify_case(cases["in register"], pre=pre)
        start = time.perf_counter()
        result = verify_case(cases["moved"], pre=pre)
        print(f"verify of the moved study (with registration): {time.perf_counter() - start:.1f} s")
        print(f"{'structure':28s} {'in register':>12s} {'moved':>10s} {'difference':>10s}")
        for name, dvh in reference.dvhs.items():
            moved_gy = result.dvhs[name].mean_gy
            print(
                f"{name:28s} {dvh.mean_gy:10.2f} Gy {moved_gy:7.2f} Gy "
                f"{moved_gy / dvh.mean_gy - 1:+10.2%}"
            )


if __name__ == "__main__":
    main()
