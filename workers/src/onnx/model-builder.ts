/** Small in-memory models: single-op graphs for tests, and subgraphs the engine builds itself. */
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  attributesFrom,
  create,
  valueInfo,
  type Attrs,
  type DataType,
  type Dim,
  type ModelProto,
  type TensorProto,
} from './proto.ts';

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attrs;
  name?: string;
  domain?: string;
}

export interface ValueSpec {
  name: string;
  type: DataType;
  dims?: Dim[];
}

export interface ModelSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: TensorProto[];
  opset?: number;
  name?: string;
}

export const DEFAULT_OPSET = 17;

export function buildModel(spec: ModelSpec): ModelProto {
  const graph = create(GraphProtoSchema, {
    name: spec.name ?? 'graph',
    input: spec.inputs.map((v) => valueInfo(v.name, v.type, v.dims)),
    output: spec.outputs.map((v) => valueInfo(v.name, v.type, v.dims)),
    initializer: spec.initializers ?? [],
    node: spec.nodes.map((n, k) =>
      create(NodeProtoSchema, {
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${k}`,
        domain: n.domain ?? '',
        attribute: attributesFrom(n.attrs),
      }),
    ),
  });
  return create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'infsplign',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(spec.opset ?? DEFAULT_OPSET) })],
    graph,
  });
}
