/** Makes intermediate values (attention probabilities, activations) graph outputs. */
import { Graph, GraphError } from './graph.ts';
import type { ModelProto } from './proto.ts';
import { inferTypes } from './type-inference.ts';

/**
 * A selector is a value name, or `/regex/` matched against value names and the names of the
 * nodes producing them. Returns the names exposed, in graph order.
 */
export function exposeValues(model: ModelProto, selectors: string[]): string[] {
  const graph = Graph.of(model);
  const { types } = inferTypes(graph);
  const chosen = new Set<string>();
  for (const selector of selectors) {
    const regex = /^\/(.*)\/([a-z]*)$/.exec(selector);
    const before = chosen.size;
    if (regex) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(regex[1]!, regex[2]);
      } catch (err) {
        throw new GraphError(`invalid regular expression ${selector}: ${(err as Error).message}`);
      }
      for (const n of graph.nodes) for (const o of n.output) if (o && (pattern.test(o) || pattern.test(n.name))) chosen.add(o);
      if (chosen.size === before) throw new GraphError(`no value or node matches ${selector}`);
    } else {
      if (!graph.hasValue(selector)) throw new GraphError(`no value named '${selector}' in the graph`);
      chosen.add(selector);
    }
  }
  const order = graph.nodes.flatMap((n) => n.output).filter((o) => chosen.has(o));
  const exposed = [...order, ...[...chosen].filter((c) => !order.includes(c))];
  for (const name of exposed) graph.addOutput(name, types.get(name));
  return exposed;
}
