/**
 * PromQL and LogQL read by the official Lezer grammars (the ones Grafana and the Prometheus UI
 * use): syntax errors, and the metric names an expression selects.
 */
import { parser as promqlParser } from "@prometheus-io/lezer-promql";
import { parser as logqlParser } from "@grafana/lezer-logql";

type Parser = typeof promqlParser;

function errorsOf(p: Parser | typeof logqlParser, text: string): string[] {
    const tree = p.parse(text);
    const errors: string[] = [];
    const c = tree.cursor();
    do {
        if (c.type.isError) errors.push(`syntax error at ${c.from}: ${JSON.stringify(text.slice(Math.max(0, c.from - 20), c.to + 20))}`);
    } while (c.next());
    return errors;
}

/** Syntax errors of a PromQL expression (empty when it parses). */
export function promqlErrors(expr: string): string[] {
    return errorsOf(promqlParser, expr);
}

/** Syntax errors of a LogQL query (empty when it parses). */
export function logqlErrors(query: string): string[] {
    return errorsOf(logqlParser, query);
}

/**
 * Metric names an expression selects: `name{...}` selectors and `{__name__=~"a|b"}` matchers
 * (alternatives of a plain `a|b|c` regex).
 */
export function metricNames(expr: string): string[] {
    const tree = promqlParser.parse(expr);
    const names = new Set<string>();
    const c = tree.cursor();
    do {
        if (c.name === "VectorSelector") {
            const node = c.node;
            const id = node.getChild("Identifier");
            if (id) names.add(expr.slice(id.from, id.to));
            const ms = node.getChild("LabelMatchers");
            for (const m of ms ? [...ms.getChildren("UnquotedLabelMatcher"), ...ms.getChildren("LabelMatcher")] : []) {
                const labelName = m.getChild("LabelName");
                const value = m.getChild("StringLiteral");
                if (labelName && value && expr.slice(labelName.from, labelName.to) === "__name__") {
                    for (const n of (JSON.parse(expr.slice(value.from, value.to)) as string).split("|")) names.add(n);
                }
            }
        }
    } while (c.next());
    return [...names].sort();
}
