import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, opsetVersion } from '../../src/onnx/graph.ts';
import { buildModel } from '../../src/onnx/model-builder.ts';
import { DataType, makeTensor } from '../../src/onnx/proto.ts';

/** a -> Relu -> r; r + W -> s; r * 2 -> unused;  nodes listed out of order on purpose. */
function sampleGraph() {
  return buildModel({
    inputs: [{ name: 'a', type: DataType.FLOAT, dims: [2] }],
    outputs: [{ name: 's', type: DataType.FLOAT, dims: [2] }],
    initializers: [makeTensor('W', DataType.FLOAT, [2], [1, 2]), makeTensor('two', DataType.FLOAT, [], [2])],
    nodes: [
      { op: 'Add', inputs: ['r', 'W'], outputs: ['s'], name: 'add' },
      { op: 'Mul', inputs: ['r', 'two'], outputs: ['unused'], name: 'mul' },
      { op: 'Relu', inputs: ['a'], outputs: ['r'], name: 'relu' },
    ],
  });
}

test('topological order puts producers first; a cycle is reported', () => {
  const model = sampleGraph();
  const graph = Graph.of(model);
  const order = graph.topologicalOrder().map((n) => n.name);
  assert.ok(order.indexOf('relu') < order.indexOf('add') && order.indexOf('relu') < order.indexOf('mul'));
  graph.nodes.find((n) => n.name === 'relu')!.input[0] = 's';
  graph.invalidate();
  assert.throws(() => graph.topologicalOrder(), /cycle/);
});

test('names: producers, consumers, collision-free new names', () => {
  const graph = Graph.of(sampleGraph());
  assert.equal(graph.producer('r')?.name, 'relu');
  assert.deepEqual(
    graph
      .consumers('r')
      .map((n) => n.name)
      .sort(),
    ['add', 'mul'],
  );
  assert.equal(graph.uniqueName('x'), 'x');
  assert.equal(graph.uniqueName('r'), 'r_1');
  assert.equal(graph.uniqueName('r'), 'r_2');
  const node = graph.addNode('Neg', ['s'], ['s']);
  assert.equal(node.output[0], 's_1');
  assert.equal(opsetVersion(sampleGraph()), 17);
});

test('inputs and outputs can be added, including intermediate values', () => {
  const graph = Graph.of(sampleGraph());
  graph.addOutput('r', { elemType: DataType.FLOAT, dims: [2] });
  graph.addInput('extra', DataType.DOUBLE, ['n']);
  assert.deepEqual(graph.outputNames(), ['s', 'r']);
  assert.deepEqual(graph.inputNames(), ['a', 'extra']);
  assert.throws(() => graph.addOutput('nope'), /no value named 'nope'/);
  assert.throws(() => graph.addInput('a', DataType.FLOAT), /already has a value named 'a'/);
});

test('prune keeps only what the given outputs need', () => {
  const graph = Graph.of(sampleGraph());
  graph.prune(['r']);
  assert.deepEqual(
    graph.nodes.map((n) => n.name),
    ['relu'],
  );
  assert.deepEqual(
    graph.proto.initializer.map((t) => t.name),
    [],
  );
  assert.deepEqual(graph.outputNames(), ['r']);
});
