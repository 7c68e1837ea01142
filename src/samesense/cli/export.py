"""samesense export: a trained model as an ONNX model folder, run by onnxruntime."""

from __future__ import annotations

import argparse


def add_export(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write MODEL as a model folder whose encoder, pooling and projection are one ONNX graph, run by "
        "onnxruntime, beside the same tokenizer: eval, similar, bench and the FAQ commands take it as they "
        "take MODEL, with the same vectors (checked on probe sentences before it is written), and load it "
        "without torch. Needs the export extra: pip install 'samesense[export]'.")
    parser.add_argument("model", metavar="MODEL", help="model folder (or a run folder with model/ inside); for "
                        "--onnx also a transformer: minilm, mpnet, e5-small, a sentence-transformers folder")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--onnx", metavar="OUT", help="the model folder to write")
    target.add_argument("--table", metavar="OUT", help="a static model: the model folder to write, its table of "
                        "token vectors as int8 with one scale per row (with --quantize int8), read with numpy "
                        "alone")
    parser.add_argument("--quantize", choices=["int8"],
                        help="store the embedding table and projection as int8 (onnxruntime dynamic "
                        "quantization; --table: one scale per row): a smaller file; the vectors move a little "
                        "(printed)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it is a model folder already")
    parser.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    if args.table:
        return run_table_export(args)
    from ..runtime.export import export_onnx

    report = export_onnx(args.model, args.onnx, quantization=args.quantize or "none", overwrite=args.overwrite)
    print(f"exported {args.model} to {report['path']}: {report['graph_bytes'] / 1e6:.2f} MB graph"
          f"{', int8 weights' if report['quantization'] == 'int8' else ''}; largest |torch - onnx| "
          f"{report['max_abs_difference_from_torch']:.1e} over {report['probe_sentences']} probe sentences, "
          f"{report['max_abs_difference_on_texts']:.1e} over the probe texts (lowest cosine "
          f"{report['lowest_cosine_on_texts']:.4f})")
    return 0


def run_table_export(args: argparse.Namespace) -> int:
    from ..errors import SamesenseError
    from ..runtime.static_model import export_int8

    if args.quantize != "int8":
        raise SamesenseError("--table writes an int8 table: add --quantize int8")
    report = export_int8(args.model, args.table, overwrite=args.overwrite)
    print(f"exported {args.model}'s table to {report['path']}: {report['table_bytes'] / 1e6:.2f} MB int8 (from "
          f"{report['from_bytes'] / 1e6:.2f} MB float32); lowest cosine to the float32 vectors "
          f"{report['lowest_cosine_to_float32']:.4f} over {report['probe_sentences']} probe sentences")
    return 0
