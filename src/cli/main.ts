#!/usr/bin/env node
// The stateless-operator command line: render, crd, audit, run.
console.log("stateless-operator");
