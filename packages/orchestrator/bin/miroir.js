#!/usr/bin/env node
import "../dist/src/bin/miroir.js";
