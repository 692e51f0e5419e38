set terminal svg size 1000,640 dynamic enhanced font 'Sans,11'
set output "results/smollm2-135m/lambda-2x-4x-8x.svg"
set title "Rescale factors at s = 2, 4, 8 (L = 8192, base 100000)"
set xlabel "frequency index i (0 = highest frequency)"
set ylabel "rescale factor λ_i"
set grid
set key outside right top
set datafile missing 'nan'
set logscale y
plot "results/smollm2-135m/lambda-2x-4x-8x.svg.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 2x-16384 (n̂=32)", \
     "results/smollm2-135m/lambda-2x-4x-8x.svg.dat" index 1 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 4x-32768", \
     "results/smollm2-135m/lambda-2x-4x-8x.svg.dat" index 2 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 8x-65536", \
     "results/smollm2-135m/lambda-2x-4x-8x.svg.dat" index 3 using 1:2 with lines linewidth 2 title "YaRN s = 2", \
     "results/smollm2-135m/lambda-2x-4x-8x.svg.dat" index 4 using 1:2 with lines linewidth 2 title "YaRN s = 4", \
     "results/smollm2-135m/lambda-2x-4x-8x.svg.dat" index 5 using 1:2 with lines linewidth 2 title "YaRN s = 8"
