set terminal pngcairo size 1000,640 enhanced font 'Sans,11'
set output "results/books-bytes-3m/lambda-8x-16x-32x.png"
set title "Rescale factors at s = 8 (L = 256, base 10000)"
set xlabel "frequency index i (0 = highest frequency)"
set ylabel "rescale factor λ_i"
set grid
set key outside right top
set datafile missing 'nan'
set logscale y
plot "results/books-bytes-3m/lambda-8x-16x-32x.png.dat" index 0 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 8x-2048 (n̂=1)", \
     "results/books-bytes-3m/lambda-8x-16x-32x.png.dat" index 1 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 16x-4096", \
     "results/books-bytes-3m/lambda-8x-16x-32x.png.dat" index 2 using 1:2 with linespoints pointsize 0.8 linewidth 2 title "longrope 32x-8192", \
     "results/books-bytes-3m/lambda-8x-16x-32x.png.dat" index 3 using 1:2 with lines linewidth 2 title "PI", \
     "results/books-bytes-3m/lambda-8x-16x-32x.png.dat" index 4 using 1:2 with lines linewidth 2 title "NTK", \
     "results/books-bytes-3m/lambda-8x-16x-32x.png.dat" index 5 using 1:2 with lines linewidth 2 title "YaRN"
