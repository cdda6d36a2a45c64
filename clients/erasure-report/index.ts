// Verifies signed erasure reports.
export * from './verify-erasure-report.js';
