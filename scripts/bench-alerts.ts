/**
 * `npm run bench -- alerts`: the alert-quality benchmark (test/alerts/support/bench.ts). Prints
 * per scenario the minutes from onset to the first warning and first page and any false alert,
 * then the targets. Exits 1 when a target is not met.
 */
import { report, runBench, verdicts } from "../test/alerts/support/bench";

export async function main(): Promise<number> {
    const started = Date.now();
    const results = await runBench(2);
    console.log(report(results));
    console.log(`\n${results.length} scenarios through promtool in ${((Date.now() - started) / 1000).toFixed(1)} s (simulated time, 15 s samples and evaluations)`);
    return verdicts(results).every((v) => v.met) ? 0 : 1;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (e) => {
            console.error(e);
            process.exit(2);
        },
    );
}
