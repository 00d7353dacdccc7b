type Status = 'identical' | 'different' | 'error';

export function jsonReport(file: string, name: string, code: number | null): {report: any; pair: any; reason: string | null};
export function junitReason(file: string, name: string, status: Status): string | null;
export function markdownReason(file: string, name: string, status: Status): string | null;
export function htmlReason(file: string, name: string): string | null;
export function picturesReason(pair: any): string | null;
export function artifactsReason(pair: any): string | null;
export function mergedReason(run: any, merged: any, runCode: number | null, mergedCode: number | null): string | null;
export function gitOutput(run: {code: number | null; stdout: string; stderr: string}, sameBytes: boolean): {verdict: Status | null; reason: string | null};
