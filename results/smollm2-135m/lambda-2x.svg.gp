set terminal svg size 1000,640 dynamic enhanced font 'Sans,11'
set output "results/smollm2-135m/lambda-2x.svg"
set title "Rescale factors at s = 2 (L = 8192, base 100000)"
set xlabel "frequency index i (0 = highest frequency)"
set ylabel "rescale factor λ_i"
set grid
set key outside right top
set datafile missing 'nan'
set logscale y
plot "results/smollm2-135m/lambda-2x.svg.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 2x-16384 (n̂=32)", \
     "results/smollm2-135m/lambda-2x.svg.dat" index 1 using 1:2 with lines linewidth 2 title "PI", \
     "results/smollm2-135m/lambda-2x.svg.dat" index 2 using 1:2 with lines linewidth 2 title "NTK", \
     "results/smollm2-135m/lambda-2x.svg.dat" index 3 using 1:2 with lines linewidth 2 title "YaRN"
